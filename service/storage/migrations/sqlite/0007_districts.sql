-- 学区 (school districts) as data: name, levels, school year from which it is effective, lead school,
-- members (the lead among them). status 'proposed' = a formation job's proposal, not yet in force;
-- 'effective' = in force (a school sits in at most one effective district per level and year,
-- checked by the store in the writing transaction). Same columns and rules as migrations/postgis/0007_districts.sql.
CREATE TABLE districts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    levels       TEXT NOT NULL,
    school_year  INTEGER NOT NULL,
    lead_code    TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('proposed', 'effective')),
    job_id       INTEGER REFERENCES jobs (id) ON DELETE SET NULL,
    report       TEXT,
    version      INTEGER NOT NULL DEFAULT 1,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE UNIQUE INDEX districts_name_year ON districts (school_year, name) WHERE status = 'effective';
CREATE INDEX districts_job ON districts (job_id);
CREATE TABLE district_schools (
    district_id  INTEGER NOT NULL REFERENCES districts (id) ON DELETE CASCADE,
    school_code  TEXT NOT NULL,
    position     INTEGER NOT NULL,
    PRIMARY KEY (district_id, school_code)
);
CREATE INDEX district_schools_code ON district_schools (school_code);
