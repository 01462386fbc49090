-- Zones published as address rules (招生范围 as lists): one row per rule of a plan.
-- Same columns and rules as migrations/postgis/0006_address_rules.sql.
CREATE TABLE address_rules (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_id        INTEGER NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    row_no         INTEGER NOT NULL,
    school_codes   TEXT NOT NULL,
    street         TEXT,
    num_from       INTEGER,
    num_to         INTEGER,
    parity         TEXT NOT NULL CHECK (parity IN ('odd', 'even', 'all')),
    compound       TEXT,
    bldg_from      INTEGER,
    bldg_to        INTEGER,
    village        TEXT,
    rule_text      TEXT,
    CHECK (num_from IS NULL OR num_to IS NULL OR num_from <= num_to),
    CHECK (bldg_from IS NULL OR bldg_to IS NULL OR bldg_from <= bldg_to)
);
CREATE INDEX address_rules_plan ON address_rules (plan_id, row_no);
