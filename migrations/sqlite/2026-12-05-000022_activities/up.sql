-- A module's activities: lessons, quizzes, assignments and resources, in sequences, each with
-- an estimated duration and whether it is required. They keep the lessons table (and its ids,
-- which hours and progress already point to) with a kind.
ALTER TABLE lessons ADD COLUMN kind TEXT NOT NULL DEFAULT 'lesson';
ALTER TABLE lessons ADD COLUMN required BOOLEAN NOT NULL DEFAULT 1;
ALTER TABLE lessons ADD COLUMN sequence INTEGER NOT NULL DEFAULT 0;

-- A quiz's attempts sit beside the evaluation's, named by the quiz's slug ('' for the
-- module's evaluation).
ALTER TABLE evaluation_attempts ADD COLUMN quiz TEXT NOT NULL DEFAULT '';
DROP INDEX evaluation_attempts_key;
CREATE UNIQUE INDEX evaluation_attempts_key ON evaluation_attempts(trainee_id, module_id, quiz, attempt_no);

-- Distance time per activity, added to by the heartbeat writer with the module's totals.
CREATE TABLE activity_totals (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    trainee_id BIGINT NOT NULL REFERENCES users(id),
    lesson_id BIGINT NOT NULL REFERENCES lessons(id),
    seconds BIGINT NOT NULL DEFAULT 0,
    last_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX activity_totals_key ON activity_totals(trainee_id, lesson_id);
CREATE INDEX activity_totals_lesson_idx ON activity_totals(lesson_id);
