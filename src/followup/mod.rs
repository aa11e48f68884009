//! Pedagogical follow-up and technical assistance: dated exchanges between a trainee and her
//! organism's staff (questions, written work, answers, feedback, read receipts), the proof of
//! accompaniment that connection logs alone are not, and the trainee's daily digest of answers.

pub mod digest;
pub mod pages;
pub mod rules;
pub mod store;
