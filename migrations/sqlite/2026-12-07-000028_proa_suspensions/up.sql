-- The windows in which a ProA trainee's funding was held up, each kept: the 2-year delay to
-- obtain the certification stops from `starts_on` and runs again on `ends_on` (empty while
-- it lasts). Replaces the single pair of dates on the trainee's profile.
CREATE TABLE proa_suspensions (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    trainee_id BIGINT NOT NULL REFERENCES users(id),
    starts_on DATE NOT NULL,
    ends_on DATE,
    reason TEXT NOT NULL,
    created_by BIGINT REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    ended_by BIGINT REFERENCES users(id),
    ended_at TIMESTAMP
);
CREATE INDEX proa_suspensions_trainee_idx ON proa_suspensions(trainee_id, starts_on);

-- The suspension recorded so far becomes the first window, whoever the trainee's funding.
INSERT INTO proa_suspensions (trainee_id, starts_on, ends_on, reason, created_by, created_at)
SELECT user_id, proa_suspended_from, proa_suspended_to,
       'Suspension enregistrée avant le suivi par périodes', NULL, updated_at
FROM trainee_profiles
WHERE proa_suspended_from IS NOT NULL;

ALTER TABLE trainee_profiles DROP COLUMN proa_suspended_from;
ALTER TABLE trainee_profiles DROP COLUMN proa_suspended_to;
