DROP TABLE closure_days;
ALTER TABLE organisms DROP COLUMN alsace_moselle;
