-- Admission in shared zones (多校划片) and enrolments (issue 18 parts 4-5).
-- Same columns and rules as migrations/postgis/0008_admission.sql.
-- A plan's admission data: priority categories (in order), places per school, applicant rows
-- (per unit or compound by category, with preferences); replaced as a whole.
CREATE TABLE admission_categories (
    plan_id      INTEGER NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    position     integer NOT NULL CHECK (position >= 0),
    cat_key      text NOT NULL,
    label_en     text NOT NULL DEFAULT '',
    label_zh     text NOT NULL DEFAULT '',
    PRIMARY KEY (plan_id, position),
    UNIQUE (plan_id, cat_key)
);
CREATE TABLE admission_places (
    plan_id      INTEGER NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    school_code  text NOT NULL REFERENCES schools (code),
    places       integer NOT NULL CHECK (places >= 0),
    PRIMARY KEY (plan_id, school_code)
);
CREATE TABLE admission_applicants (
    plan_id      INTEGER NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    row_no       integer NOT NULL,
    unit         text NOT NULL,
    cat_key      text NOT NULL,
    count        integer NOT NULL CHECK (count >= 0),
    preferences  text NOT NULL,
    accept_any   INTEGER NOT NULL,
    zone_school  text,
    applicant_id text,
    PRIMARY KEY (plan_id, row_no)
);
-- A lottery draw: published first (seed or its SHA-256, algorithm, list hashes), drawn after.
CREATE TABLE lottery_draws (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_id           INTEGER NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    zone              text NOT NULL,
    status            text NOT NULL CHECK (status IN ('published', 'drawn')),
    algorithm         text NOT NULL,
    seed              text,
    seed_sha256       text NOT NULL,
    applicants_sha256 text NOT NULL,
    places_sha256     text NOT NULL,
    notice            TEXT NOT NULL,
    results           TEXT,
    results_sha256    text,
    published_by      text NOT NULL,
    published_at      TEXT NOT NULL,
    drawn_by          text,
    drawn_at          TEXT
);
CREATE INDEX lottery_draws_plan ON lottery_draws (plan_id, id);
-- Enrolments (who attends where): a pupil (count 1) or an aggregated row; ids only, no names.
CREATE TABLE enrolments (
    level        text NOT NULL,
    row_no       integer NOT NULL,
    pupil_id     text NOT NULL,
    unit         text,
    lon          double precision,
    lat          double precision,
    school_code  text NOT NULL,
    category     text,
    count        integer NOT NULL CHECK (count >= 1),
    CHECK (unit IS NOT NULL OR (lon IS NOT NULL AND lat IS NOT NULL)),
    PRIMARY KEY (level, row_no),
    UNIQUE (level, pupil_id)
);
