ALTER TABLE users ADD COLUMN weekly_digest BOOLEAN NOT NULL DEFAULT 1;

CREATE TABLE job_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    job TEXT NOT NULL,
    period TEXT NOT NULL,
    instance TEXT NOT NULL,
    ran_at TIMESTAMP NOT NULL,
    messages INTEGER NOT NULL
);
CREATE UNIQUE INDEX job_runs_key ON job_runs(job, period);

CREATE TABLE nudges (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    trainee_id BIGINT NOT NULL REFERENCES users(id),
    sent_on DATE NOT NULL
);
CREATE INDEX nudges_trainee_idx ON nudges(trainee_id, sent_on);
