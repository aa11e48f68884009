-- Back to one pair of dates: each trainee's latest window.
ALTER TABLE trainee_profiles ADD COLUMN proa_suspended_from DATE;
ALTER TABLE trainee_profiles ADD COLUMN proa_suspended_to DATE;
UPDATE trainee_profiles SET
    proa_suspended_from = (SELECT s.starts_on FROM proa_suspensions s
        WHERE s.trainee_id = trainee_profiles.user_id ORDER BY s.starts_on DESC, s.id DESC LIMIT 1),
    proa_suspended_to = (SELECT s.ends_on FROM proa_suspensions s
        WHERE s.trainee_id = trainee_profiles.user_id ORDER BY s.starts_on DESC, s.id DESC LIMIT 1);
DROP TABLE proa_suspensions;
