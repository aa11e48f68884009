-- Employers (a doctor practising alone, a group practice) belong to the organism that named
-- them: a practice typed by another organism must never reach this one's trainees.
-- (SQLite: no REFERENCES, so that the column can be dropped again.)
-- A group practice may carry its SIRET or FINESS ("siret:…", "finess:…"), unique within it.
ALTER TABLE employers ADD COLUMN organism_id BIGINT;
ALTER TABLE employers ADD COLUMN registration TEXT;
ALTER TABLE employers ADD COLUMN split_from BIGINT;

UPDATE employers SET organism_id = (
    SELECT MIN(tp.organism_id) FROM trainee_profiles tp WHERE tp.employer_id = employers.id
);

-- An employer that trainees of several organisms shared is split: one copy per further
-- organism, keeping the doctors linked to it (which organism linked which is not recorded).
INSERT INTO employers (name, kind, created_at, organism_id, split_from)
SELECT DISTINCT e.name, e.kind, e.created_at, tp.organism_id, e.id
FROM employers e JOIN trainee_profiles tp ON tp.employer_id = e.id
WHERE tp.organism_id <> e.organism_id;

INSERT INTO employer_doctors (employer_id, doctor_id)
SELECT c.id, ed.doctor_id
FROM employers c JOIN employer_doctors ed ON ed.employer_id = c.split_from;

UPDATE trainee_profiles SET employer_id = (
    SELECT c.id FROM employers c
    WHERE c.split_from = trainee_profiles.employer_id
      AND c.organism_id = trainee_profiles.organism_id
)
WHERE EXISTS (
    SELECT 1 FROM employers c
    WHERE c.split_from = trainee_profiles.employer_id
      AND c.organism_id = trainee_profiles.organism_id
);

-- Employers no trainee points at belong to nobody: gone, with their links.
DELETE FROM employer_doctors WHERE employer_id IN (SELECT id FROM employers WHERE organism_id IS NULL);
DELETE FROM employers WHERE organism_id IS NULL;

ALTER TABLE employers DROP COLUMN split_from;

CREATE INDEX employers_organism_idx ON employers(organism_id, kind);
CREATE UNIQUE INDEX employers_registration_key ON employers(organism_id, registration)
    WHERE registration IS NOT NULL;
