-- sealog PostgreSQL schema, version 1. Run by Open in one transaction,
-- with search_path set to the log's schema. See ../README.md.

-- One row per schema version applied, by the sealog that applied it.
CREATE TABLE schema_version (
    version integer     PRIMARY KEY,
    applied timestamptz NOT NULL DEFAULT now(),
    sealog  text        NOT NULL
);

-- The log's identity (store.Metadata): one row, fixed at creation.
CREATE TABLE meta (
    id      boolean     PRIMARY KEY DEFAULT true CHECK (id),
    format  text        NOT NULL,
    origin  text        NOT NULL,
    key     text        NOT NULL,
    created timestamptz NOT NULL
);

-- The head row: the committed state (store.Head). Every Append locks it
-- and moves it in the transaction that inserts the batch. Updated once per
-- batch, so it leaves room on its page for HOT updates.
CREATE TABLE head (
    id         boolean     PRIMARY KEY DEFAULT true CHECK (id),
    size       bigint      NOT NULL CHECK (size >= 0),
    last_leaf  bytea       CHECK (octet_length(last_leaf) = 32),
    last_time  bigint      NOT NULL,
    checkpoint bytea,
    updated    timestamptz NOT NULL DEFAULT now()
) WITH (fillfactor = 10);

-- One row per entry. line is the stored line without its newline, byte
-- for byte: the untrusted source of truth that a verifier reads. leaf and
-- nodes are the tree's stored hashes that appending the entry produced
-- (tlog order: leaf is level 0, nodes the 32-byte hashes of levels 1, 2,
-- ... that the entry completes). time_ns, kind, actor and resource are
-- copied out of the line at insert, for queries only; the text columns
-- compare bytewise (COLLATE "C"), which is cheap and lets a prefix
-- (LIKE 'doc/%') use the index.
CREATE TABLE entries (
    seq      bigint PRIMARY KEY CHECK (seq >= 0),
    time_ns  bigint NOT NULL,
    kind     text COLLATE "C",
    actor    text COLLATE "C",
    resource text COLLATE "C",
    leaf     bytea  NOT NULL CHECK (octet_length(leaf) = 32),
    nodes    bytea  NOT NULL CHECK (octet_length(nodes) % 32 = 0),
    line     bytea  NOT NULL
);
CREATE INDEX entries_kind ON entries (kind, time_ns) WHERE kind IS NOT NULL;
CREATE INDEX entries_actor ON entries (actor, time_ns) WHERE actor IS NOT NULL;
CREATE INDEX entries_resource ON entries (resource, time_ns) WHERE resource IS NOT NULL;
-- Entry times never decrease along seq: a BRIN index is small and cheap.
CREATE INDEX entries_time ON entries USING brin (time_ns);

-- One row per committed batch: the size at which it ends (entry size-1
-- carries its signature), its first seq, and its signed checkpoint.
CREATE TABLE batches (
    size       bigint      PRIMARY KEY CHECK (size > 0),
    first      bigint      NOT NULL CHECK (first >= 0 AND first < size),
    checkpoint bytea       NOT NULL,
    committed  timestamptz NOT NULL DEFAULT now()
);

-- The empty log.
INSERT INTO head (size, last_time) VALUES (0, 0);
