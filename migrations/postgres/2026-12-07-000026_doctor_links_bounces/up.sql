-- Links mailed to an employer doctor that open his assistants' page without a password
-- (read-only, plus "transmise à la CPAM"). Only a SHA-256 of the token is kept.
CREATE TABLE doctor_links (
    id BIGSERIAL PRIMARY KEY,
    doctor_id BIGINT NOT NULL REFERENCES users(id),
    token_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP,
    revoked_by BIGINT REFERENCES users(id)
);
CREATE UNIQUE INDEX doctor_links_token_key ON doctor_links(token_hash);
CREATE INDEX doctor_links_doctor_idx ON doctor_links(doctor_id);

-- Addresses a mail server refused for good (a delivery-status notification read from the
-- bounce mailbox): when, and the server's reason. Cleared when staff send a mail again.
CREATE TABLE bouncing_addresses (
    email TEXT PRIMARY KEY NOT NULL,
    bounced_at TIMESTAMP NOT NULL,
    reason TEXT NOT NULL,
    outbox_id BIGINT REFERENCES outbox(id)
);
