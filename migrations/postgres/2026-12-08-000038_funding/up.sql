-- The funding file of an enrolment (issue #22): who pays, under which scheme, the file number
-- and where the request stands. One per enrolment; its status changes are kept in
-- funding_events so the history shows who moved it, when, and why when it went back.
CREATE TABLE funding_files (
    id BIGSERIAL PRIMARY KEY,
    enrolment_id BIGINT NOT NULL UNIQUE REFERENCES enrolments(id),
    trainee_id BIGINT NOT NULL REFERENCES users(id),
    organism_id BIGINT NOT NULL REFERENCES organisms(id),
    funder TEXT NOT NULL,
    scheme TEXT NOT NULL,
    file_number TEXT NOT NULL,
    status TEXT NOT NULL,
    sent_on DATE,
    decided_on DATE,
    approved_cents BIGINT,
    approved_minutes INTEGER,
    refusal_reason TEXT,
    updated_by BIGINT REFERENCES users(id),
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX funding_files_waiting ON funding_files(organism_id, status, sent_on);
CREATE INDEX funding_files_trainee ON funding_files(trainee_id);

CREATE TABLE funding_events (
    id BIGSERIAL PRIMARY KEY,
    file_id BIGINT NOT NULL REFERENCES funding_files(id),
    status TEXT NOT NULL,
    reason TEXT,
    at TIMESTAMP NOT NULL,
    by_user BIGINT REFERENCES users(id)
);
CREATE INDEX funding_events_file ON funding_events(file_id);
