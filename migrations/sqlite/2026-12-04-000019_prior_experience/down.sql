ALTER TABLE trainee_profiles DROP COLUMN prior_experience;
