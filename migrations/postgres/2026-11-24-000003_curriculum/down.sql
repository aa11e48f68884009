DROP TABLE evaluation_attempts;
DROP TABLE lesson_progress;
DROP TABLE enrolments;
DROP TABLE cohorts;
DROP TABLE lessons;
DROP TABLE modules;
DROP TABLE programs;
DROP TABLE content_versions;
