-- The alerts sent to a CQP trainee's doctors and organism 6 and 3 months before her deadline.
-- One row per (trainee, threshold, deadline): claimed in the transaction that queues the mails,
-- so several instances send each alert once; a deadline moved by a ProA suspension is a new
-- deadline, alerted again.
CREATE TABLE deadline_alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    trainee_id BIGINT NOT NULL REFERENCES users(id),
    threshold_months INTEGER NOT NULL,
    deadline DATE NOT NULL,
    sent_at TIMESTAMP NOT NULL,
    -- How many mails were queued: 0 says nobody could be reached.
    messages INTEGER NOT NULL
);
CREATE UNIQUE INDEX deadline_alerts_key ON deadline_alerts(trainee_id, threshold_months, deadline);
