DROP TABLE certifications;
DROP TABLE certification_blocs;
DROP TABLE certification_candidates;
DROP TABLE certification_sessions;
