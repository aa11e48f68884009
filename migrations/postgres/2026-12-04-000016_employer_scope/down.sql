DROP INDEX employers_registration_key;
DROP INDEX employers_organism_idx;
ALTER TABLE employers DROP COLUMN registration;
ALTER TABLE employers DROP COLUMN organism_id;
