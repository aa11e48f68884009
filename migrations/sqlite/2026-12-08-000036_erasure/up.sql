-- Erasure of personal data (issue #23): legal holds that stop it, people's requests and their
-- answers, files queued for deletion in the transaction that erased their rows (so a killed
-- job deletes them on its next run), and the marks of what was pseudonymised.
CREATE TABLE legal_holds (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    organism_id BIGINT NOT NULL REFERENCES organisms(id),
    cohort_id BIGINT REFERENCES cohorts(id),
    trainee_id BIGINT REFERENCES users(id),
    reason TEXT NOT NULL,
    set_by BIGINT REFERENCES users(id),
    set_at TIMESTAMP NOT NULL,
    lifted_at TIMESTAMP,
    lifted_by BIGINT REFERENCES users(id),
    lifted_reason TEXT
);
CREATE INDEX legal_holds_organism ON legal_holds(organism_id);

CREATE TABLE erasure_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id),
    requested_at TIMESTAMP NOT NULL,
    accepted BOOLEAN NOT NULL DEFAULT 0,
    reason TEXT NOT NULL,
    erase_on DATE
);
CREATE INDEX erasure_requests_user ON erasure_requests(user_id);

CREATE TABLE erasure_files (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    shelf TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    queued_at TIMESTAMP NOT NULL
);

ALTER TABLE users ADD COLUMN erased_at TIMESTAMP;
ALTER TABLE attestations ADD COLUMN erased_at TIMESTAMP;
ALTER TABLE attestations ADD COLUMN erased_signature TEXT;
ALTER TABLE organisms ADD COLUMN proof_years INTEGER;
