-- Long work (optimisation, district formation, batch assignment): one table, progress and cancel.
-- Same columns and rules as migrations/postgis/0005_jobs.sql.
CREATE TABLE jobs (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    kind             TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    owner            TEXT NOT NULL,
    params           TEXT NOT NULL DEFAULT '{}',
    progress         TEXT NOT NULL DEFAULT '{}',
    result           TEXT,
    error            TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    created_at       TEXT NOT NULL,
    started_at       TEXT,
    finished_at      TEXT,
    heartbeat_at     TEXT
);
CREATE INDEX jobs_owner ON jobs (owner, id);
CREATE INDEX jobs_status ON jobs (status);
