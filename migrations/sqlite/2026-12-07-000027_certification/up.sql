-- CQP certification sessions held by the branch: an organism registers its trainees for the
-- blocs a session assesses (module codes, JSON array), then records each result per bloc.
CREATE TABLE certification_sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    organism_id BIGINT NOT NULL REFERENCES organisms(id),
    held_on DATE NOT NULL,
    place TEXT NOT NULL,
    jury TEXT NOT NULL,
    blocs TEXT NOT NULL,
    created_by BIGINT REFERENCES users(id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX certification_sessions_organism_idx ON certification_sessions(organism_id);

-- A trainee registered for a session, for the blocs she still needs among the session's;
-- derogation holds the reason when her path was not complete for them.
CREATE TABLE certification_candidates (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    session_id BIGINT NOT NULL REFERENCES certification_sessions(id),
    trainee_id BIGINT NOT NULL REFERENCES users(id),
    blocs TEXT NOT NULL,
    derogation TEXT,
    registered_by BIGINT REFERENCES users(id),
    registered_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX certification_candidates_key ON certification_candidates(session_id, trainee_id);
CREATE INDEX certification_candidates_trainee_idx ON certification_candidates(trainee_id);

-- A trainee's result for one bloc (module code): at a session (acquired, not_acquired,
-- absent) or granted by a VAE decision (acquired). An acquired bloc is kept for good.
CREATE TABLE certification_blocs (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    trainee_id BIGINT NOT NULL REFERENCES users(id),
    bloc TEXT NOT NULL,
    result TEXT NOT NULL,
    session_id BIGINT REFERENCES certification_sessions(id),
    vae_request_id BIGINT REFERENCES vae_requests(id),
    decided_on DATE NOT NULL,
    recorded_by BIGINT REFERENCES users(id),
    recorded_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX certification_blocs_session_key ON certification_blocs(session_id, trainee_id, bloc);
CREATE INDEX certification_blocs_trainee_idx ON certification_blocs(trainee_id);

-- The CQP obtained: once per trainee, with the certificate's number.
CREATE TABLE certifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    trainee_id BIGINT NOT NULL REFERENCES users(id),
    obtained_on DATE NOT NULL,
    certificate_number TEXT NOT NULL,
    recorded_by BIGINT REFERENCES users(id),
    recorded_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX certifications_trainee_key ON certifications(trainee_id);
