-- Tokens of an organism's integrations. Only a SHA-256 of the secret is kept.
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    organism_id BIGINT NOT NULL REFERENCES organisms(id),
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    secret_sha256 TEXT NOT NULL,
    created_by BIGINT NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE UNIQUE INDEX api_tokens_secret_key ON api_tokens(secret_sha256);
CREATE INDEX api_tokens_organism_idx ON api_tokens(organism_id);
