ALTER TABLE outbox DROP COLUMN list_unsubscribe;
ALTER TABLE users DROP COLUMN followup_staff_digest;
ALTER TABLE users DROP COLUMN followup_digest;
ALTER TABLE users DROP COLUMN nudge;
