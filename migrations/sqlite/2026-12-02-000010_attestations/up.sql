ALTER TABLE organisms ADD COLUMN city TEXT;

CREATE TABLE attestations (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    organism_id BIGINT NOT NULL REFERENCES organisms(id),
    trainee_id BIGINT NOT NULL REFERENCES users(id),
    cohort_id BIGINT NOT NULL REFERENCES cohorts(id),
    kind TEXT NOT NULL,
    number TEXT NOT NULL,
    code TEXT NOT NULL,
    signature TEXT NOT NULL,
    payload TEXT NOT NULL,
    pdf BLOB NOT NULL,
    final_key TEXT,
    period_from DATE NOT NULL,
    period_to DATE NOT NULL,
    override_reason TEXT,
    issued_by BIGINT REFERENCES users(id),
    issued_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    revoked_by BIGINT REFERENCES users(id),
    revoked_reason TEXT,
    cpam_forwarded_on DATE,
    cpam_marked_by BIGINT REFERENCES users(id)
);
CREATE UNIQUE INDEX attestations_code_key ON attestations(code);
CREATE UNIQUE INDEX attestations_number_key ON attestations(number);
CREATE UNIQUE INDEX attestations_final_key ON attestations(final_key);
CREATE INDEX attestations_trainee_idx ON attestations(trainee_id);
CREATE INDEX attestations_cohort_idx ON attestations(cohort_id);
