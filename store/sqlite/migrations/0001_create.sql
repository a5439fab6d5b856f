-- sealog SQLite schema, version 1. Run by Open in one BEGIN IMMEDIATE
-- transaction. See ../README.md.

-- One row per schema version applied, by the sealog that applied it.
CREATE TABLE schema_version (
    version INTEGER PRIMARY KEY,
    applied TEXT    NOT NULL,  -- RFC 3339, UTC
    sealog  TEXT    NOT NULL
) STRICT;

-- The log's identity (store.Metadata): one row, fixed at creation.
CREATE TABLE meta (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    format  TEXT    NOT NULL,
    origin  TEXT    NOT NULL,
    key     TEXT    NOT NULL,
    created TEXT    NOT NULL   -- RFC 3339 with nanoseconds, UTC
) STRICT;

-- The head row: the committed state (store.Head), moved by every Append
-- in the transaction that inserts the batch.
CREATE TABLE head (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    size       INTEGER NOT NULL CHECK (size >= 0),
    last_leaf  BLOB    CHECK (length(last_leaf) = 32),
    last_time  INTEGER NOT NULL,
    checkpoint BLOB
) STRICT;

-- One row per entry. line is the stored line without its newline, byte
-- for byte: the untrusted source of truth that a verifier reads. leaf and
-- nodes are the tree's stored hashes that appending the entry produced
-- (tlog order: leaf is level 0, nodes the 32-byte hashes of levels 1, 2,
-- ... that the entry completes). time_ns, kind, actor and resource are
-- copied out of the line at insert, for queries only.
CREATE TABLE entries (
    seq      INTEGER PRIMARY KEY CHECK (seq >= 0),
    time_ns  INTEGER NOT NULL,
    kind     TEXT,
    actor    TEXT,
    resource TEXT,
    leaf     BLOB    NOT NULL CHECK (length(leaf) = 32),
    nodes    BLOB    NOT NULL CHECK (length(nodes) % 32 = 0),
    line     BLOB    NOT NULL
) STRICT;
CREATE INDEX entries_kind ON entries (kind, time_ns) WHERE kind IS NOT NULL;
CREATE INDEX entries_actor ON entries (actor, time_ns) WHERE actor IS NOT NULL;
CREATE INDEX entries_resource ON entries (resource, time_ns) WHERE resource IS NOT NULL;
CREATE INDEX entries_time ON entries (time_ns);

-- One row per committed batch: the size at which it ends (entry size-1
-- carries its signature), its first seq, and its signed checkpoint.
CREATE TABLE batches (
    size       INTEGER PRIMARY KEY CHECK (size > 0),
    first      INTEGER NOT NULL CHECK (first >= 0 AND first < size),
    checkpoint BLOB    NOT NULL
) STRICT;

-- The empty log.
INSERT INTO head (id, size, last_time) VALUES (1, 0, 0);
