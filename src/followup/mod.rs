//! Pedagogical follow-up and technical assistance: dated exchanges between a trainee and her
//! organism's staff (questions, written work, answers, feedback, read receipts), the proof of
//! accompaniment that connection logs alone are not, the trainee's daily digest of answers
//! and the staff's daily digest of questions.

pub mod attachments;
pub mod digest;
pub mod pages;
pub mod rules;
pub mod staff_digest;
mod staff_pages;
pub mod store;
