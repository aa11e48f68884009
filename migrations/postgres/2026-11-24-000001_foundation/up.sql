CREATE TABLE organisms (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    siret TEXT,
    nda TEXT,
    address TEXT,
    qualiopi_number TEXT,
    contact_email TEXT,
    contact_phone TEXT,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    password_hash TEXT,
    role TEXT NOT NULL,
    organism_id BIGINT REFERENCES organisms(id),
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    token_version INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    last_login_at TIMESTAMP
);
CREATE UNIQUE INDEX users_email_key ON users(email);
CREATE INDEX users_organism_idx ON users(organism_id);

CREATE TABLE audit_events (
    id BIGSERIAL PRIMARY KEY,
    at TIMESTAMP NOT NULL,
    actor_user_id BIGINT REFERENCES users(id),
    organism_id BIGINT REFERENCES organisms(id),
    action TEXT NOT NULL,
    subject_type TEXT NOT NULL,
    subject_id BIGINT,
    subject_key TEXT,
    before_json TEXT,
    after_json TEXT,
    ip TEXT
);
CREATE INDEX audit_events_subject_idx ON audit_events(subject_type, subject_id);
CREATE INDEX audit_events_key_idx ON audit_events(action, subject_key, at);
CREATE INDEX audit_events_org_idx ON audit_events(organism_id, at);
