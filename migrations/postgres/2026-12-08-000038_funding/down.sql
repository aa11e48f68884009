DROP TABLE funding_events;
DROP TABLE funding_files;
