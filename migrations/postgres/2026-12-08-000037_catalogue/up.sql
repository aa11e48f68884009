-- The public catalogue (issue #22): what an organism publishes of an upcoming cohort. The
-- programme, dates and calendar come from the cohort itself; the contact is the organism's.
CREATE TABLE catalogue_entries (
    cohort_id BIGINT PRIMARY KEY NOT NULL REFERENCES cohorts(id),
    city TEXT NOT NULL,
    region TEXT NOT NULL,
    distance_percent INTEGER NOT NULL,
    seats INTEGER NOT NULL,
    price_cents BIGINT NOT NULL,
    funding_routes TEXT NOT NULL,
    contact_email TEXT NOT NULL,
    contact_phone TEXT NOT NULL,
    published BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at TIMESTAMP NOT NULL
);
-- The catalogue lists published entries by region.
CREATE INDEX catalogue_entries_listed ON catalogue_entries(published, region);
