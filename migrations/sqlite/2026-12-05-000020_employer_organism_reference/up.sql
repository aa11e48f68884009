-- employers.organism_id gets the foreign key PostgreSQL has had since 000016 (SQLite can only
-- add one by rebuilding the table).
-- Migrations run inside one transaction with foreign keys on, where they cannot be switched
-- off. So the checks are deferred to the commit: dropping the table leaves trainee_profiles
-- and employer_doctors pointing at nothing, and putting the same rows back under the same
-- name settles each of those references again. No child has ON DELETE CASCADE: dropping
-- deletes no other row.
PRAGMA defer_foreign_keys = ON;

CREATE TABLE employers_copy AS SELECT id, name, kind, created_at, organism_id, registration
FROM employers;
-- AUTOINCREMENT never gives an id twice: its counter survives the rebuild.
CREATE TABLE employers_sequence AS SELECT seq FROM sqlite_sequence WHERE name = 'employers';

DROP TABLE employers;
CREATE TABLE employers (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    organism_id BIGINT REFERENCES organisms(id),
    registration TEXT
);
INSERT INTO employers (id, name, kind, created_at, organism_id, registration)
SELECT id, name, kind, created_at, organism_id, registration FROM employers_copy;
UPDATE sqlite_sequence SET seq = max(seq, (SELECT seq FROM employers_sequence))
WHERE name = 'employers' AND EXISTS (SELECT 1 FROM employers_sequence);
INSERT INTO sqlite_sequence (name, seq)
SELECT 'employers', seq FROM employers_sequence
WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'employers');
DROP TABLE employers_copy;
DROP TABLE employers_sequence;

CREATE INDEX employers_organism_idx ON employers(organism_id, kind);
CREATE UNIQUE INDEX employers_registration_key ON employers(organism_id, registration)
    WHERE registration IS NOT NULL;

PRAGMA defer_foreign_keys = OFF;
