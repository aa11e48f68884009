//! People and their access: users, roles, passwords, login, sessions.

pub mod account_pages;
pub mod api;
pub mod api_tokens;
pub mod contact_pages;
pub mod doctor_links;
pub mod email_change;
pub mod invite;
pub mod links;
pub mod login;
pub mod mail_choices;
pub mod next_page;
pub mod pages;
pub mod password;
pub mod rules;
pub mod session;
pub mod sessions;
pub mod store;
pub mod token_pages;
pub mod unsubscribe;
pub mod unsubscribe_pages;

pub use rules::Role;
pub use session::CurrentUser;
