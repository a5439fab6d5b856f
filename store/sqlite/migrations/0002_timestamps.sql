-- sealog SQLite schema, version 2: the RFC 3161 timestamp responses over
-- the log's checkpoints (store.Timestamps, docs/FORMAT.md §12), one per
-- tree size, the first one stored kept. See ../README.md.
CREATE TABLE timestamps (
    size   INTEGER PRIMARY KEY CHECK (size > 0),
    tsr    BLOB    NOT NULL CHECK (length(tsr) BETWEEN 1 AND 65536),  -- DER TimeStampResp, untrusted
    stored TEXT    NOT NULL   -- RFC 3339, UTC
) STRICT;
