ALTER TABLE enrolments DROP COLUMN end_note;
ALTER TABLE enrolments DROP COLUMN end_reason;
