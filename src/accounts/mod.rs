//! People and their access: users, roles, passwords, login, sessions.

pub mod api;
pub mod invite;
pub mod links;
pub mod login;
pub mod pages;
pub mod password;
pub mod rules;
pub mod session;
pub mod store;

pub use rules::Role;
pub use session::CurrentUser;
