-- Binary assets every API host loads from the database: street networks (compressed numpy
-- arrays, .npz) today. One row per (kind, name); the bytes are compressed before they are stored.
-- Same columns and rules as migrations/sqlite/0009_assets.sql.
CREATE TABLE assets (
    kind      text NOT NULL CHECK (kind IN ('network')),
    name      text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    codec     text NOT NULL,
    sha256    text NOT NULL CHECK (length(sha256) = 64),
    size      bigint NOT NULL CHECK (size >= 0),
    data      bytea NOT NULL,
    stored_at timestamptz NOT NULL,
    PRIMARY KEY (kind, name),
    CHECK (octet_length(data) = size)
);
-- The bytes are compressed already: TOAST stores them out of line without trying again.
ALTER TABLE assets ALTER COLUMN data SET STORAGE EXTERNAL;
