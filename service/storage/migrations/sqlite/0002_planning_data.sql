-- Address points (the offline gazetteer), demand units, street networks, plan history.
CREATE TABLE addresses (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    dataset   TEXT NOT NULL,
    ext_id    TEXT NOT NULL,
    full_text TEXT,
    number    TEXT,
    street    TEXT,
    locality  TEXT,
    postcode  TEXT,
    lon       REAL NOT NULL CHECK (lon BETWEEN -180 AND 180),
    lat       REAL NOT NULL CHECK (lat BETWEEN -90 AND 90),
    UNIQUE (dataset, ext_id)
);

CREATE TABLE demand_sets (
    name       TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    report     TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL
);

CREATE TABLE demand_units (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    dataset      TEXT NOT NULL REFERENCES demand_sets (name) ON DELETE CASCADE,
    unit_id      TEXT NOT NULL,
    counts       TEXT NOT NULL DEFAULT '{}',
    grade_counts TEXT NOT NULL DEFAULT '{}',
    population   REAL CHECK (population >= 0),
    attributes   TEXT NOT NULL DEFAULT '{}',
    geom         BLOB NOT NULL,
    UNIQUE (dataset, unit_id)
);

CREATE TABLE networks (
    name     TEXT PRIMARY KEY,
    mode     TEXT NOT NULL CHECK (mode IN ('walk', 'drive')),
    path     TEXT NOT NULL,
    source   TEXT,
    stats    TEXT NOT NULL DEFAULT '{}',
    built_at TEXT NOT NULL
);

-- Every version of a plan's zones, for undo/redo and for the change notice.
CREATE TABLE plan_versions (
    plan_id INTEGER NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    action  TEXT NOT NULL,
    actor   TEXT NOT NULL,
    at      TEXT NOT NULL,
    zones   TEXT NOT NULL,
    PRIMARY KEY (plan_id, version)
);
