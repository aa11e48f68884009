DROP TABLE identity_corrections;
DROP TABLE email_changes;
