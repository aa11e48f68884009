DROP TABLE invitations;
DROP TABLE outbox_attachments;
DROP TABLE outbox;
