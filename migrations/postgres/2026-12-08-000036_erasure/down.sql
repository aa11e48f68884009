ALTER TABLE organisms DROP COLUMN proof_years;
ALTER TABLE attestations DROP COLUMN erased_signature;
ALTER TABLE attestations DROP COLUMN erased_at;
ALTER TABLE users DROP COLUMN erased_at;
DROP TABLE erasure_files;
DROP TABLE erasure_requests;
DROP TABLE legal_holds;
