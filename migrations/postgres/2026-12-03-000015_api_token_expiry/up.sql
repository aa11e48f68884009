-- Integration tokens expire; those made before this get a year from their creation.
ALTER TABLE api_tokens ADD COLUMN expires_at TIMESTAMP;
UPDATE api_tokens SET expires_at = created_at + INTERVAL '365 days';
