DROP INDEX followup_attachments_sha_idx;
DROP INDEX vae_documents_sha_idx;
DROP TABLE anonymous_upload_hours;
DROP TABLE vae_pending_documents;
DROP TABLE vae_pending_requests;
