DROP TABLE assignment_files;
DROP TABLE assignment_submissions;
