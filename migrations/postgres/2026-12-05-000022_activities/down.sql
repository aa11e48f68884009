DROP TABLE activity_totals;
DROP INDEX evaluation_attempts_key;
DELETE FROM evaluation_attempts WHERE quiz <> '';
ALTER TABLE evaluation_attempts DROP COLUMN quiz;
CREATE UNIQUE INDEX evaluation_attempts_key ON evaluation_attempts(trainee_id, module_id, attempt_no);
ALTER TABLE lessons DROP COLUMN sequence;
ALTER TABLE lessons DROP COLUMN required;
ALTER TABLE lessons DROP COLUMN kind;
