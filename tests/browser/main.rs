//! End-to-end tests in a real headless Chromium (Debian's, through chromedriver) against the
//! real server on 127.0.0.1, on SQLite or PostgreSQL like the other black-box tests. Each page
//! a journey visits is checked with axe-core (WCAG 2.0/2.1 A and AA), at phone size for
//! horizontal scrolling, for words of a table cut over two lines, and saved as a screenshot
//! under `screenshots/`. `every_page.rs` visits every page of the code that way, as everyone
//! who may see it, at phone and PC size.

mod attendance;
mod attestations;
mod authoring;
mod certification;
mod cmi5;
#[allow(dead_code, unused_imports)]
#[path = "../it/common.rs"]
mod common;
mod data_export;
mod driver;
mod every_page;
mod followup;
mod journeys;
mod package_fixture;
mod packages;
#[path = "../it/routes.rs"]
mod routes;
mod scorm_runtime;
mod vae;
