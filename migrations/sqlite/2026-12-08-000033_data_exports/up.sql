-- A person's data as a ZIP (right of access and portability, GDPR art. 15 and 20): asked by
-- the person herself, or by an organism's administrator for a person who wrote (organism_id
-- and reference then say which and why). Built in the background by any instance, which holds
-- it for a while (locked_by, locked_until); the ZIP is kept on the uploads shelf under its
-- SHA-256 and only its requester may download it until expires_at. Row and file are erased
-- by the scheduled jobs once expired.
CREATE TABLE data_exports (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id),
    requested_by BIGINT NOT NULL REFERENCES users(id),
    organism_id BIGINT REFERENCES organisms(id),
    reference TEXT,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    locked_by TEXT,
    locked_until TIMESTAMP,
    sha256 TEXT,
    size_bytes BIGINT,
    error TEXT,
    created_at TIMESTAMP NOT NULL,
    ready_at TIMESTAMP,
    expires_at TIMESTAMP
);
CREATE INDEX data_exports_requested_by ON data_exports(requested_by);
CREATE INDEX data_exports_status ON data_exports(status);
