-- sealog PostgreSQL schema, version 3: the RFC 3161 timestamp responses
-- over the log's checkpoints (store.Timestamps, docs/FORMAT.md §12), one
-- per tree size, the first one stored kept. See ../README.md.
CREATE TABLE timestamps (
    size   bigint      PRIMARY KEY CHECK (size > 0),
    tsr    bytea       NOT NULL CHECK (octet_length(tsr) BETWEEN 1 AND 65536),  -- DER TimeStampResp, untrusted
    stored timestamptz NOT NULL DEFAULT now()
);
