DROP TABLE followup_digests;
DROP TABLE followup_reads;
DROP TABLE followup_attachments;
DROP TABLE followup_messages;
DROP TABLE followup_threads;
