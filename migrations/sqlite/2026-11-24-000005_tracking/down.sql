DROP TABLE attendance_entries;
DROP TABLE attendance_sheets;
DROP TABLE hour_corrections;
DROP TABLE daily_activity;
DROP TABLE module_totals;
DROP TABLE study_sessions;
DROP TABLE study_clocks;
