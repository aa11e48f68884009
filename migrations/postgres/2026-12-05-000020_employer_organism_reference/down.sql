-- Nothing to undo here: the key came with 000016 (see the SQLite down.sql).
SELECT 1;
