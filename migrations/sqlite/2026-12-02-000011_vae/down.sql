DROP TABLE vae_documents;
DROP TABLE vae_experiences;
DROP TABLE vae_requests;
