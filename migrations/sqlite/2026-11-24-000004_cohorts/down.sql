DROP TABLE distance_periods;
DROP TABLE sessions;
DROP TABLE path_adjustments;
DROP TABLE trainee_profiles;
DROP TABLE employer_doctors;
DROP TABLE employers;
DROP TABLE cohort_trainers;
ALTER TABLE cohorts DROP COLUMN ics_token;
