-- An anonymous VAE request waits here until its address is confirmed: no account, no file
-- for the organism before that. Only a SHA-256 of the link's secret is kept.
CREATE TABLE vae_pending_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    token_hash TEXT NOT NULL,
    organism_id BIGINT NOT NULL REFERENCES organisms(id),
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    phone TEXT NOT NULL,
    address TEXT NOT NULL,
    employer TEXT NOT NULL,
    requested_modules TEXT NOT NULL,
    experiences TEXT NOT NULL,
    ip TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX vae_pending_requests_token_key ON vae_pending_requests(token_hash);
CREATE INDEX vae_pending_requests_created_idx ON vae_pending_requests(created_at);
CREATE INDEX vae_pending_requests_organism_idx ON vae_pending_requests(organism_id);

CREATE TABLE vae_pending_documents (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    pending_id BIGINT NOT NULL REFERENCES vae_pending_requests(id),
    kind TEXT NOT NULL,
    file_name TEXT NOT NULL,
    mime_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL
);
CREATE INDEX vae_pending_documents_pending_idx ON vae_pending_documents(pending_id);
CREATE INDEX vae_pending_documents_sha_idx ON vae_pending_documents(sha256);

-- Bytes received from anonymous people per clock hour, shared by every instance.
CREATE TABLE anonymous_upload_hours (
    hour_start TIMESTAMP PRIMARY KEY NOT NULL,
    bytes BIGINT NOT NULL
);

-- Quotas and the purge look files up by their digest.
CREATE INDEX vae_documents_sha_idx ON vae_documents(sha256);
CREATE INDEX followup_attachments_sha_idx ON followup_attachments(sha256);
