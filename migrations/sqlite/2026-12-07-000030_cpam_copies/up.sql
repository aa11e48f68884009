-- The copy an employer doctor forwards to his CPAM: the FAE attestation, or for the CQP the
-- certificate the branch issued, uploaded by the organism (kept under its SHA-256 like VAE
-- documents). Each records why no doctor was mailed (doctor_not_sent: shown to staff as
-- "non envoyé"), and the two follow-ups of a copy not marked as forwarded: the doctor's
-- reminder at 15 days, the organism's notice at 30.
ALTER TABLE attestations ADD COLUMN doctor_not_sent TEXT;
ALTER TABLE attestations ADD COLUMN cpam_reminded_at TIMESTAMP;
ALTER TABLE attestations ADD COLUMN organism_told_at TIMESTAMP;

ALTER TABLE certifications ADD COLUMN organism_id BIGINT REFERENCES organisms(id);
ALTER TABLE certifications ADD COLUMN certificate_sha256 TEXT;
ALTER TABLE certifications ADD COLUMN certificate_name TEXT;
ALTER TABLE certifications ADD COLUMN certificate_mime TEXT;
ALTER TABLE certifications ADD COLUMN certificate_at TIMESTAMP;
ALTER TABLE certifications ADD COLUMN doctor_not_sent TEXT;
ALTER TABLE certifications ADD COLUMN cpam_forwarded_on DATE;
ALTER TABLE certifications ADD COLUMN cpam_marked_by BIGINT REFERENCES users(id);
ALTER TABLE certifications ADD COLUMN cpam_reminded_at TIMESTAMP;
ALTER TABLE certifications ADD COLUMN organism_told_at TIMESTAMP;
UPDATE certifications SET organism_id = (SELECT p.organism_id FROM trainee_profiles p
    WHERE p.user_id = certifications.trainee_id);
CREATE INDEX certifications_sha_idx ON certifications(certificate_sha256);

-- What the CPAM asks to identify the doctor and his aid: his RPPS number or his Assurance
-- Maladie (facturation) number, and the reference of the aid contract for the post.
ALTER TABLE users ADD COLUMN rpps TEXT;
ALTER TABLE users ADD COLUMN am_number TEXT;
ALTER TABLE trainee_profiles ADD COLUMN aid_contract_ref TEXT;
