//! Reporting for funders and Qualiopi: hours and absences over a period, and the yearly
//! figures of an organism, as pages, CSV and XLSX. Reads only; computes from other domains'
//! data with their own formulas (certificate hours, dashboard progress).

pub mod figures;
pub mod funders;
pub mod pages;
pub mod rules;
pub mod store;
pub mod table;
pub mod xlsx;
