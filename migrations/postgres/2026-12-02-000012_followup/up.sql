-- Pedagogical follow-up and technical assistance: one thread per trainee and module
-- (kind 'pedagogique') or per help request (kind 'assistance', no module).
CREATE TABLE followup_threads (
    id BIGSERIAL PRIMARY KEY,
    organism_id BIGINT NOT NULL REFERENCES organisms(id),
    cohort_id BIGINT NOT NULL REFERENCES cohorts(id),
    trainee_id BIGINT NOT NULL REFERENCES users(id),
    module_id BIGINT REFERENCES modules(id),
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_message_at TIMESTAMP NOT NULL,
    -- Time of the oldest trainee message not yet answered by staff; NULL when answered.
    waiting_since TIMESTAMP,
    closed_at TIMESTAMP
);
CREATE UNIQUE INDEX followup_threads_module_key ON followup_threads(trainee_id, cohort_id, module_id) WHERE kind = 'pedagogique';
CREATE INDEX followup_threads_cohort_idx ON followup_threads(cohort_id, waiting_since);
CREATE INDEX followup_threads_organism_idx ON followup_threads(organism_id, kind, waiting_since);

-- kind: 'question' and 'travail' (written work) from the trainee, 'reponse' and 'retour' (feedback) from staff.
CREATE TABLE followup_messages (
    id BIGSERIAL PRIMARY KEY,
    thread_id BIGINT NOT NULL REFERENCES followup_threads(id),
    author_id BIGINT NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX followup_messages_thread_idx ON followup_messages(thread_id, created_at);

-- Stored like VAE documents: content-addressed by SHA-256 in the shared file folder.
CREATE TABLE followup_attachments (
    id BIGSERIAL PRIMARY KEY,
    message_id BIGINT NOT NULL REFERENCES followup_messages(id),
    file_name TEXT NOT NULL,
    mime_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL
);
CREATE INDEX followup_attachments_message_idx ON followup_attachments(message_id);

-- Read receipts: the newest message each person has seen in a thread.
CREATE TABLE followup_reads (
    id BIGSERIAL PRIMARY KEY,
    thread_id BIGINT NOT NULL REFERENCES followup_threads(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    last_read_message_id BIGINT NOT NULL,
    read_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX followup_reads_key ON followup_reads(thread_id, user_id);

-- At most one digest of answers a day per trainee.
CREATE TABLE followup_digests (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    sent_on DATE NOT NULL,
    up_to_message_id BIGINT NOT NULL
);
CREATE UNIQUE INDEX followup_digests_key ON followup_digests(user_id, sent_on);
