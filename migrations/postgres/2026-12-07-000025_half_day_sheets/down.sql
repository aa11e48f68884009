ALTER TABLE attendance_sheets DROP COLUMN closed_as;
ALTER TABLE attendance_entries DROP COLUMN pm_signed_via;
ALTER TABLE attendance_entries DROP COLUMN pm_signed_at;
ALTER TABLE attendance_entries DROP COLUMN pm_status;
