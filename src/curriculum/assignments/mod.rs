//! Assignments (devoirs): versions handed in by a trainee, graded by a trainer with the
//! activity's rubric.

pub mod store;
