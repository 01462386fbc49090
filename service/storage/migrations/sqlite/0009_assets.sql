-- Binary assets every API host loads from the database: street networks (compressed numpy
-- arrays, .npz) today. One row per (kind, name); the bytes are compressed before they are stored.
-- Same columns and rules as migrations/postgis/0009_assets.sql.
CREATE TABLE assets (
    kind      TEXT NOT NULL CHECK (kind IN ('network')),
    name      TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    codec     TEXT NOT NULL,
    sha256    TEXT NOT NULL CHECK (length(sha256) = 64),
    size      INTEGER NOT NULL CHECK (size >= 0),
    data      BLOB NOT NULL,
    stored_at TEXT NOT NULL,
    PRIMARY KEY (kind, name),
    CHECK (length(data) = size)
);
