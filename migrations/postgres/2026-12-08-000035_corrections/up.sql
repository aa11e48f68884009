-- A change of one's own e-mail address, waiting for the link mailed to the new address. Only
-- a SHA-256 of the token is kept; unconfirmed ones are purged after 48 hours.
CREATE TABLE email_changes (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    new_email TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX email_changes_token ON email_changes(token_hash);
CREATE INDEX email_changes_user ON email_changes(user_id);
-- A person's request to correct her name as printed on documents, decided by her organism's
-- administrators: applied (users.name changes) or refused with a reason.
CREATE TABLE identity_corrections (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    organism_id BIGINT NOT NULL REFERENCES organisms(id),
    current_name TEXT NOT NULL,
    requested_name TEXT NOT NULL,
    note TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    decided_by BIGINT REFERENCES users(id),
    decided_at TIMESTAMP,
    decision_reason TEXT
);
CREATE INDEX identity_corrections_organism ON identity_corrections(organism_id, state);
CREATE INDEX identity_corrections_user ON identity_corrections(user_id);
