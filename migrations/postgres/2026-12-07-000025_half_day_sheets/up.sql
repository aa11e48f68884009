-- A session longer than a half-day is signed twice: the afternoon's own signature.
ALTER TABLE attendance_entries ADD COLUMN pm_status TEXT;
ALTER TABLE attendance_entries ADD COLUMN pm_signed_at TIMESTAMP;
ALTER TABLE attendance_entries ADD COLUMN pm_signed_via TEXT;
-- In which capacity the sheet was closed: 'formateur' (designated) or 'equipe' (none was).
ALTER TABLE attendance_sheets ADD COLUMN closed_as TEXT;
