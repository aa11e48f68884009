CREATE TABLE content_versions (
    id BIGSERIAL PRIMARY KEY,
    program_code TEXT NOT NULL,
    hash TEXT NOT NULL,
    snapshot TEXT NOT NULL,
    loaded_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX content_versions_key ON content_versions(program_code, hash);

CREATE TABLE programs (
    id BIGSERIAL PRIMARY KEY,
    code TEXT NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    total_minutes INTEGER NOT NULL,
    min_months INTEGER NOT NULL,
    max_months INTEGER NOT NULL,
    version_id BIGINT NOT NULL REFERENCES content_versions(id),
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX programs_code_key ON programs(code);

CREATE TABLE modules (
    id BIGSERIAL PRIMARY KEY,
    program_id BIGINT NOT NULL REFERENCES programs(id),
    code TEXT NOT NULL,
    title TEXT NOT NULL,
    position INTEGER NOT NULL,
    planned_minutes INTEGER NOT NULL,
    distance_minutes INTEGER NOT NULL,
    presentiel_minutes INTEGER NOT NULL,
    modality TEXT NOT NULL,
    retired BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE UNIQUE INDEX modules_code_key ON modules(code);

CREATE TABLE lessons (
    id BIGSERIAL PRIMARY KEY,
    module_id BIGINT NOT NULL REFERENCES modules(id),
    slug TEXT NOT NULL,
    title TEXT NOT NULL,
    position INTEGER NOT NULL,
    minutes INTEGER NOT NULL,
    retired BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE UNIQUE INDEX lessons_key ON lessons(module_id, slug);

CREATE TABLE cohorts (
    id BIGSERIAL PRIMARY KEY,
    organism_id BIGINT NOT NULL REFERENCES organisms(id),
    program_id BIGINT NOT NULL REFERENCES programs(id),
    content_version_id BIGINT NOT NULL REFERENCES content_versions(id),
    name TEXT NOT NULL,
    start_date DATE NOT NULL,
    end_date DATE NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX cohorts_organism_idx ON cohorts(organism_id);

CREATE TABLE enrolments (
    id BIGSERIAL PRIMARY KEY,
    cohort_id BIGINT NOT NULL REFERENCES cohorts(id),
    trainee_id BIGINT NOT NULL REFERENCES users(id),
    started_on DATE NOT NULL,
    ended_on DATE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX enrolments_trainee_idx ON enrolments(trainee_id);
CREATE INDEX enrolments_cohort_idx ON enrolments(cohort_id);

CREATE TABLE lesson_progress (
    id BIGSERIAL PRIMARY KEY,
    trainee_id BIGINT NOT NULL REFERENCES users(id),
    lesson_id BIGINT NOT NULL REFERENCES lessons(id),
    completed_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX lesson_progress_key ON lesson_progress(trainee_id, lesson_id);

CREATE TABLE evaluation_attempts (
    id BIGSERIAL PRIMARY KEY,
    trainee_id BIGINT NOT NULL REFERENCES users(id),
    module_id BIGINT NOT NULL REFERENCES modules(id),
    evaluation_hash TEXT NOT NULL,
    attempt_no INTEGER NOT NULL,
    status TEXT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    submitted_at TIMESTAMP,
    answers TEXT,
    correct_count INTEGER,
    question_count INTEGER NOT NULL,
    score_pct INTEGER,
    passed BOOLEAN
);
CREATE UNIQUE INDEX evaluation_attempts_key ON evaluation_attempts(trainee_id, module_id, attempt_no);
