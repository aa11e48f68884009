-- One choice per optional mail kind, named as the kind (as weekly_digest already is): the
-- person turns it off from the mail's link or from /mon-compte, and the sender skips her.
ALTER TABLE users ADD COLUMN nudge BOOLEAN NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN followup_digest BOOLEAN NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN followup_staff_digest BOOLEAN NOT NULL DEFAULT 1;
-- The unsubscribe URL of an optional mail, sent as its List-Unsubscribe header (RFC 8058).
ALTER TABLE outbox ADD COLUMN list_unsubscribe TEXT;
