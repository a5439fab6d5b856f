-- sealog SQLite schema, version 3: pruning (docs/FORMAT.md §13.5).
-- Store.Prune deletes the entries below the prune point and keeps, in the
-- same transaction, what verification needs. (Numbered 3: version 2 is
-- another change written at the same time.) See ../README.md.

-- The prune state, one row once the log is pruned: below is the prune
-- point (the first seq kept), state the prune state in the exact form of
-- a directory's pruned.json (docs/FORMAT.md §13.2).
CREATE TABLE pruned (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    below INTEGER NOT NULL CHECK (below > 0),
    state BLOB    NOT NULL
) STRICT;

-- The tree hashes of the deleted entries (as entries.leaf and
-- entries.nodes held them), for the proofs of the entries kept.
CREATE TABLE pruned_hashes (
    seq   INTEGER PRIMARY KEY CHECK (seq >= 0),
    leaf  BLOB    NOT NULL CHECK (length(leaf) = 32),
    nodes BLOB    NOT NULL CHECK (length(nodes) % 32 = 0)
) STRICT;
