-- Every sign-in is a row: a token names its row, and a request is honoured only while the
-- row is there, so logging out (here, or everywhere) ends the session at once on every
-- instance. `expires_at` moves forward as the session is renewed.
CREATE TABLE login_sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    device TEXT NOT NULL,
    ip TEXT,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX login_sessions_user_idx ON login_sessions(user_id);
CREATE INDEX login_sessions_expiry_idx ON login_sessions(expires_at);
