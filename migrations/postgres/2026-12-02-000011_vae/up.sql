CREATE TABLE vae_requests (
    id BIGSERIAL PRIMARY KEY,
    organism_id BIGINT NOT NULL REFERENCES organisms(id),
    candidate_id BIGINT NOT NULL REFERENCES users(id),
    program_id BIGINT NOT NULL REFERENCES programs(id),
    year INTEGER NOT NULL,
    state TEXT NOT NULL,
    phone TEXT NOT NULL,
    address TEXT NOT NULL,
    employer TEXT NOT NULL,
    requested_modules TEXT NOT NULL,
    experience_minutes INTEGER NOT NULL,
    below_threshold BOOLEAN NOT NULL,
    consent_at TIMESTAMP NOT NULL,
    reasons TEXT,
    recevable_at TIMESTAMP,
    jury_at TIMESTAMP,
    jury_place TEXT,
    decision TEXT,
    validated_modules TEXT,
    recommendations TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX vae_requests_year_key ON vae_requests(candidate_id, program_id, year);
CREATE INDEX vae_requests_organism_idx ON vae_requests(organism_id, state);

CREATE TABLE vae_experiences (
    id BIGSERIAL PRIMARY KEY,
    request_id BIGINT NOT NULL REFERENCES vae_requests(id),
    from_date DATE NOT NULL,
    to_date DATE NOT NULL,
    employer TEXT NOT NULL,
    job_role TEXT NOT NULL,
    minutes INTEGER NOT NULL,
    missions TEXT NOT NULL
);
CREATE INDEX vae_experiences_request_idx ON vae_experiences(request_id);

CREATE TABLE vae_documents (
    id BIGSERIAL PRIMARY KEY,
    request_id BIGINT NOT NULL REFERENCES vae_requests(id),
    kind TEXT NOT NULL,
    file_name TEXT NOT NULL,
    mime_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    uploaded_by BIGINT NOT NULL REFERENCES users(id),
    uploaded_at TIMESTAMP NOT NULL
);
CREATE INDEX vae_documents_request_idx ON vae_documents(request_id);
