-- Programmes belong to organisms: the shipped ones are the platform's reference programmes
-- (no organism); an organism's own programme is a copy it edits as a draft and publishes as
-- numbered versions. A version's files are listed in its manifest (path -> SHA-256 of a blob
-- kept once), so any version can be played again, exported or compared.
ALTER TABLE programs ADD COLUMN organism_id BIGINT REFERENCES organisms(id);
ALTER TABLE programs ADD COLUMN source_program_id BIGINT REFERENCES programs(id);
CREATE INDEX programs_organism_idx ON programs(organism_id);

ALTER TABLE content_versions ADD COLUMN program_id BIGINT REFERENCES programs(id);
ALTER TABLE content_versions ADD COLUMN number INTEGER NOT NULL DEFAULT 0;
ALTER TABLE content_versions ADD COLUMN manifest TEXT NOT NULL DEFAULT '';
ALTER TABLE content_versions ADD COLUMN published_by BIGINT REFERENCES users(id);
ALTER TABLE content_versions ADD COLUMN changes TEXT NOT NULL DEFAULT '';
UPDATE content_versions SET program_id = (SELECT p.id FROM programs p WHERE p.code = content_versions.program_code);
UPDATE content_versions SET number = (SELECT COUNT(*) FROM content_versions c2
    WHERE c2.program_code = content_versions.program_code AND c2.id <= content_versions.id);
-- Publishing the content of an earlier version again is a new version: the hash is no key.
DROP INDEX content_versions_key;
CREATE INDEX content_versions_hash_idx ON content_versions(program_code, hash);
CREATE UNIQUE INDEX content_versions_number_key ON content_versions(program_code, number);

-- Module codes are unique within their programme (every copy of the CQP has its M1).
DROP INDEX modules_code_key;
CREATE UNIQUE INDEX modules_code_key ON modules(program_id, code);

-- Staff an organism admin names as authors of its programmes.
ALTER TABLE users ADD COLUMN can_author BOOLEAN NOT NULL DEFAULT 0;

-- The draft of an organism's programme: its files as a manifest, and a revision that every
-- save must name, so that a second author saving the same draft is told it changed.
CREATE TABLE program_drafts (
    program_id INTEGER PRIMARY KEY NOT NULL REFERENCES programs(id),
    revision INTEGER NOT NULL,
    manifest TEXT NOT NULL,
    based_on BIGINT REFERENCES content_versions(id),
    updated_by BIGINT REFERENCES users(id),
    updated_at TIMESTAMP NOT NULL
);
