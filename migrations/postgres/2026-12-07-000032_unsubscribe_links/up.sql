-- The links in a non-essential mail (a digest, a nudge, a reminder) that turn that kind of mail
-- off without signing in: one per mail, naming its person and its kind. Only a SHA-256 of the
-- token is kept; using one twice changes nothing more.
CREATE TABLE unsubscribe_links (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE UNIQUE INDEX unsubscribe_links_token ON unsubscribe_links(token_hash);
CREATE INDEX unsubscribe_links_user ON unsubscribe_links(user_id);
