-- What the import's "Profil" cell said when it was no care diploma ("Secrétaire médicale"):
-- the trainee's prior experience, shown on her file for the positionnement.
ALTER TABLE trainee_profiles ADD COLUMN prior_experience TEXT;
