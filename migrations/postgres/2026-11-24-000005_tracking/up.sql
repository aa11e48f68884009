CREATE TABLE study_clocks (
    id BIGSERIAL PRIMARY KEY,
    trainee_id BIGINT NOT NULL REFERENCES users(id),
    last_credit_at TIMESTAMP NOT NULL,
    day DATE NOT NULL,
    day_seconds INTEGER NOT NULL
);
CREATE UNIQUE INDEX study_clocks_trainee_key ON study_clocks(trainee_id);

CREATE TABLE study_sessions (
    id BIGSERIAL PRIMARY KEY,
    trainee_id BIGINT NOT NULL REFERENCES users(id),
    page_view TEXT NOT NULL,
    module_id BIGINT NOT NULL REFERENCES modules(id),
    lesson_id BIGINT REFERENCES lessons(id),
    started_at TIMESTAMP NOT NULL,
    last_beat_at TIMESTAMP NOT NULL,
    last_seq INTEGER NOT NULL,
    seconds_credited INTEGER NOT NULL
);
CREATE UNIQUE INDEX study_sessions_view_key ON study_sessions(trainee_id, page_view);

CREATE TABLE module_totals (
    id BIGSERIAL PRIMARY KEY,
    trainee_id BIGINT NOT NULL REFERENCES users(id),
    module_id BIGINT NOT NULL REFERENCES modules(id),
    distance_seconds BIGINT NOT NULL DEFAULT 0,
    presentiel_seconds BIGINT NOT NULL DEFAULT 0,
    correction_seconds BIGINT NOT NULL DEFAULT 0,
    last_activity_at TIMESTAMP
);
CREATE UNIQUE INDEX module_totals_key ON module_totals(trainee_id, module_id);

CREATE TABLE daily_activity (
    id BIGSERIAL PRIMARY KEY,
    trainee_id BIGINT NOT NULL REFERENCES users(id),
    day DATE NOT NULL,
    module_id BIGINT NOT NULL REFERENCES modules(id),
    distance_seconds BIGINT NOT NULL DEFAULT 0,
    first_at TIMESTAMP NOT NULL,
    last_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX daily_activity_key ON daily_activity(trainee_id, day, module_id);

CREATE TABLE hour_corrections (
    id BIGSERIAL PRIMARY KEY,
    trainee_id BIGINT NOT NULL REFERENCES users(id),
    module_id BIGINT NOT NULL REFERENCES modules(id),
    seconds BIGINT NOT NULL,
    reason TEXT NOT NULL,
    created_by BIGINT NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX hour_corrections_trainee_idx ON hour_corrections(trainee_id);

CREATE TABLE attendance_sheets (
    id BIGSERIAL PRIMARY KEY,
    session_id BIGINT NOT NULL REFERENCES sessions(id),
    status TEXT NOT NULL,
    opened_by BIGINT NOT NULL REFERENCES users(id),
    opened_at TIMESTAMP NOT NULL,
    closed_by BIGINT REFERENCES users(id),
    closed_at TIMESTAMP
);
CREATE UNIQUE INDEX attendance_sheets_session_key ON attendance_sheets(session_id);

CREATE TABLE attendance_entries (
    id BIGSERIAL PRIMARY KEY,
    sheet_id BIGINT NOT NULL REFERENCES attendance_sheets(id),
    trainee_id BIGINT NOT NULL REFERENCES users(id),
    status TEXT NOT NULL,
    signed_at TIMESTAMP,
    signed_via TEXT,
    arrived_at TIME,
    left_at TIME,
    minutes_credited INTEGER NOT NULL DEFAULT 0,
    note TEXT
);
CREATE UNIQUE INDEX attendance_entries_key ON attendance_entries(sheet_id, trainee_id);
