-- Core schema: schools, plans, zones, keys, audit, and the zone version stamp.
-- Geometries are EPSG:4326 WKB with their bounding box for bbox filters.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO meta (key, value) VALUES ('zone_version', 1);

CREATE TABLE schools (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    name_local  TEXT,
    levels      TEXT NOT NULL DEFAULT '[]',
    grades      TEXT NOT NULL DEFAULT '[]',
    address     TEXT,
    capacity    INTEGER CHECK (capacity >= 0),
    enrolment   INTEGER CHECK (enrolment >= 0),
    classes     INTEGER CHECK (classes >= 0),
    status      TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'planned', 'closed')),
    feeds_into  TEXT NOT NULL DEFAULT '[]',
    attributes  TEXT NOT NULL DEFAULT '{}',
    lon         REAL NOT NULL CHECK (lon BETWEEN -180 AND 180),
    lat         REAL NOT NULL CHECK (lat BETWEEN -90 AND 90)
);
CREATE INDEX schools_lon_lat ON schools (lon, lat);

CREATE TABLE plans (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT NOT NULL,
    district       TEXT NOT NULL,
    level          TEXT NOT NULL,
    school_year    INTEGER NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('draft', 'proposed', 'adopted', 'archived')),
    version        INTEGER NOT NULL DEFAULT 1,
    parent_id      INTEGER REFERENCES plans (id),
    created_by     TEXT,
    created_at     TEXT NOT NULL,
    effective_year INTEGER,
    description    TEXT
);
-- Exactly one adopted plan per district, level and school year, enforced here.
CREATE UNIQUE INDEX plans_one_adopted ON plans (district, level, school_year) WHERE status = 'adopted';

CREATE TABLE zones (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_id           INTEGER NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    name              TEXT,
    school_codes      TEXT NOT NULL,
    grades            TEXT,
    grade_start_years TEXT NOT NULL DEFAULT '{}',
    source            TEXT,
    attributes        TEXT NOT NULL DEFAULT '{}',
    geom              BLOB NOT NULL,
    minx REAL NOT NULL, miny REAL NOT NULL, maxx REAL NOT NULL, maxy REAL NOT NULL
);
CREATE INDEX zones_plan ON zones (plan_id);

-- One row per (zone, school) so the database itself refuses unknown school codes.
CREATE TABLE zone_schools (
    zone_id     INTEGER NOT NULL REFERENCES zones (id) ON DELETE CASCADE,
    school_code TEXT NOT NULL REFERENCES schools (code) ON UPDATE CASCADE,
    PRIMARY KEY (zone_id, school_code)
);
CREATE INDEX zone_schools_code ON zone_schools (school_code);

CREATE TABLE api_keys (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('planner', 'admin')),
    hash       TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

-- Append-only: the repository never updates or deletes rows here.
CREATE TABLE audit (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    at     TEXT NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    before TEXT,
    after  TEXT
);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
