-- Days an organism does not train: the two extra public holidays of Alsace-Moselle (Good
-- Friday and 26 December) when it works under that local law, and its own closure days
-- ("Fermeture d'été"), one day or a run of days. The weekly rhythm generator skips them.
ALTER TABLE organisms ADD COLUMN alsace_moselle BOOLEAN NOT NULL DEFAULT FALSE;
CREATE TABLE closure_days (
    id BIGSERIAL PRIMARY KEY,
    organism_id BIGINT NOT NULL REFERENCES organisms(id),
    first_day DATE NOT NULL,
    last_day DATE NOT NULL,
    label TEXT NOT NULL,
    created_by BIGINT REFERENCES users(id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX closure_days_organism_idx ON closure_days(organism_id, first_day);
