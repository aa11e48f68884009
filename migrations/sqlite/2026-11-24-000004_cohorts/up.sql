ALTER TABLE cohorts ADD COLUMN ics_token TEXT NOT NULL DEFAULT '';

CREATE TABLE cohort_trainers (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    cohort_id BIGINT NOT NULL REFERENCES cohorts(id),
    trainer_id BIGINT NOT NULL REFERENCES users(id)
);
CREATE UNIQUE INDEX cohort_trainers_key ON cohort_trainers(cohort_id, trainer_id);

CREATE TABLE employers (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE employer_doctors (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    employer_id BIGINT NOT NULL REFERENCES employers(id),
    doctor_id BIGINT NOT NULL REFERENCES users(id)
);
CREATE UNIQUE INDEX employer_doctors_key ON employer_doctors(employer_id, doctor_id);
CREATE INDEX employer_doctors_doctor_idx ON employer_doctors(doctor_id);

CREATE TABLE trainee_profiles (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id),
    organism_id BIGINT NOT NULL REFERENCES organisms(id),
    profile TEXT NOT NULL,
    hire_date DATE NOT NULL,
    funding TEXT NOT NULL,
    employer_id BIGINT REFERENCES employers(id),
    proa_suspended_from DATE,
    proa_suspended_to DATE,
    ics_token TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX trainee_profiles_user_key ON trainee_profiles(user_id);
CREATE INDEX trainee_profiles_employer_idx ON trainee_profiles(employer_id);

CREATE TABLE path_adjustments (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    trainee_id BIGINT NOT NULL REFERENCES users(id),
    module_id BIGINT NOT NULL REFERENCES modules(id),
    kind TEXT NOT NULL,
    exempted_minutes INTEGER NOT NULL,
    reason TEXT NOT NULL,
    document_ref TEXT,
    updated_by BIGINT REFERENCES users(id),
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX path_adjustments_key ON path_adjustments(trainee_id, module_id);

CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    cohort_id BIGINT NOT NULL REFERENCES cohorts(id),
    module_id BIGINT NOT NULL REFERENCES modules(id),
    trainer_id BIGINT REFERENCES users(id),
    day DATE NOT NULL,
    starts_at TIME NOT NULL,
    ends_at TIME NOT NULL,
    place TEXT NOT NULL,
    planned_minutes INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX sessions_cohort_idx ON sessions(cohort_id, day);

CREATE TABLE distance_periods (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    cohort_id BIGINT NOT NULL REFERENCES cohorts(id),
    module_id BIGINT NOT NULL REFERENCES modules(id),
    from_date DATE NOT NULL,
    to_date DATE NOT NULL
);
CREATE INDEX distance_periods_cohort_idx ON distance_periods(cohort_id);
