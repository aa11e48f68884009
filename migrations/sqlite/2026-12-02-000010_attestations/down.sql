DROP TABLE attestations;
ALTER TABLE organisms DROP COLUMN city;
