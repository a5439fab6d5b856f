-- sealog PostgreSQL schema, version 4: pruning (docs/FORMAT.md §13.5).
-- Store.Prune deletes the entries below the prune point and keeps, in the
-- same transaction, what verification needs. See ../README.md.

-- The prune state, one row once the log is pruned: below is the prune
-- point (the first seq kept), state the prune state in the exact form of
-- a directory's pruned.json (docs/FORMAT.md §13.2), which sealog
-- export-dir writes as it is and every verifier checks.
CREATE TABLE pruned (
    id     boolean     PRIMARY KEY DEFAULT true CHECK (id),
    below  bigint      NOT NULL CHECK (below > 0),
    state  bytea       NOT NULL,
    pruned timestamptz NOT NULL DEFAULT now()
);

-- The tree hashes of the deleted entries (as entries.leaf and
-- entries.nodes held them): inclusion and consistency proofs of the
-- entries kept read them, as a directory keeps its hashes file whole.
CREATE TABLE pruned_hashes (
    seq   bigint PRIMARY KEY CHECK (seq >= 0),
    leaf  bytea  NOT NULL CHECK (octet_length(leaf) = 32),
    nodes bytea  NOT NULL CHECK (octet_length(nodes) % 32 = 0)
);
