-- Assignments (devoirs): every version a trainee hands in is kept; a trainer grades one
-- version with the activity's rubric, or asks for a new one. The activity is a row of the
-- lessons table (activities keep it, with a kind).
-- status: 'submitted', 'graded' or 'revision_requested'. scores: JSON list of integers, one
-- per rubric criterion, in the rubric's order.
CREATE TABLE assignment_submissions (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    trainee_id BIGINT NOT NULL REFERENCES users(id),
    lesson_id BIGINT NOT NULL REFERENCES lessons(id),
    version_no INTEGER NOT NULL,
    answer_text TEXT NOT NULL,
    submitted_at TIMESTAMP NOT NULL,
    status TEXT NOT NULL,
    graded_by BIGINT REFERENCES users(id),
    graded_at TIMESTAMP,
    scores TEXT,
    points INTEGER,
    max_points INTEGER,
    feedback TEXT
);
CREATE UNIQUE INDEX assignment_submissions_key ON assignment_submissions(trainee_id, lesson_id, version_no);
CREATE INDEX assignment_submissions_lesson_idx ON assignment_submissions(lesson_id);
CREATE INDEX assignment_submissions_status_idx ON assignment_submissions(status, submitted_at);

-- The files of a version, kept like follow-up attachments: content-addressed by SHA-256 in
-- the shared file folder.
CREATE TABLE assignment_files (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    submission_id BIGINT NOT NULL REFERENCES assignment_submissions(id),
    file_name TEXT NOT NULL,
    mime_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL
);
CREATE INDEX assignment_files_submission_idx ON assignment_files(submission_id);
CREATE INDEX assignment_files_sha256_idx ON assignment_files(sha256);
