DROP TABLE nudges;
DROP TABLE job_runs;
ALTER TABLE users DROP COLUMN weekly_digest;
