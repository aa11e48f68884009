//! The public catalogue (issue #22): organisms publish their upcoming cohorts with place,
//! seats, price, funding and contact; anyone lists and filters them without signing in, as
//! pages, JSON and an Atom feed, with each organism's Qualiopi figures.

pub mod api;
pub mod entry_pages;
pub mod feed;
pub mod listing;
pub mod pages;
pub mod rules;
pub mod store;
pub mod view;
