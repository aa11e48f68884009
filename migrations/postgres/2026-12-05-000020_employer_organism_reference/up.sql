-- employers.organism_id has referred to organisms since 000016 here; this number gives the
-- same key to SQLite, which has to rebuild the table for it.
SELECT 1;
