-- E-learning packages (SCORM 1.2, SCORM 2004, cmi5) played as activities (issue #19).
-- One attempt row per trainee, package activity and SCO or AU: the run-time data the package
-- committed (the snapshot, re-checked by the server) and what it means. Our own clock credits
-- the hours (activity_totals); package_seconds only adds up the package's own session_time,
-- shown next to ours.
CREATE TABLE package_attempts (
    id BIGSERIAL PRIMARY KEY,
    trainee_id BIGINT NOT NULL REFERENCES users(id),
    lesson_id BIGINT NOT NULL REFERENCES lessons(id),
    -- The SCO's identifier in the manifest, or the AU's id.
    item TEXT NOT NULL,
    standard TEXT NOT NULL,
    data TEXT NOT NULL,
    completion TEXT NOT NULL,
    success TEXT NOT NULL,
    score_scaled DOUBLE PRECISION,
    score_raw DOUBLE PRECISION,
    package_seconds DOUBLE PRECISION NOT NULL,
    commits INTEGER NOT NULL,
    started_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    completed_at TIMESTAMP
);
CREATE UNIQUE INDEX package_attempts_key ON package_attempts(trainee_id, lesson_id, item);

-- A launch: the secret in the player frame's address on the packages' own origin. It opens
-- that one attempt's files, commits and (cmi5) xAPI calls, nothing else, and expires. Only its
-- SHA-256 is kept. cmi5: the session id and registration sent to the AU, and whether the
-- one-time fetch URL was used.
CREATE TABLE package_launches (
    token_sha256 TEXT PRIMARY KEY NOT NULL,
    attempt_id BIGINT NOT NULL REFERENCES package_attempts(id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    session_id TEXT NOT NULL,
    fetched BOOLEAN NOT NULL,
    -- The package's own time of the attempt's earlier sessions: this session's is added to it.
    base_seconds DOUBLE PRECISION NOT NULL
);
CREATE INDEX package_launches_attempt ON package_launches(attempt_id);

-- What a cmi5 AU sends to our small xAPI endpoint: its statements (kept as received, after
-- the checks cmi5 asks of an LMS) and its state documents.
CREATE TABLE cmi5_statements (
    id BIGSERIAL PRIMARY KEY,
    attempt_id BIGINT NOT NULL REFERENCES package_attempts(id),
    -- The AU session (one launch) it was sent in: cmi5 orders statements within a session.
    session_id TEXT NOT NULL,
    statement_id TEXT NOT NULL,
    verb TEXT NOT NULL,
    body TEXT NOT NULL,
    stored_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX cmi5_statements_key ON cmi5_statements(statement_id);
CREATE INDEX cmi5_statements_attempt ON cmi5_statements(attempt_id);

CREATE TABLE cmi5_states (
    id BIGSERIAL PRIMARY KEY,
    attempt_id BIGINT NOT NULL REFERENCES package_attempts(id),
    state_id TEXT NOT NULL,
    body TEXT NOT NULL,
    content_type TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX cmi5_states_key ON cmi5_states(attempt_id, state_id);
