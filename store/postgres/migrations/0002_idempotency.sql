-- sealog PostgreSQL schema, version 2: the Idempotency-Keys of the
-- servers of this log (store.IdempotencyKeys), so that a retry sent to
-- another server gets the first request's entries. See ../README.md.
CREATE TABLE idempotency (
    key       text        PRIMARY KEY,  -- SHA-256 of token id and key, hex
    request   text        NOT NULL,     -- digest of the request's events
    head      text        NOT NULL,     -- digest of its first event
    n         bigint      NOT NULL CHECK (n > 0),
    from_size bigint      NOT NULL CHECK (from_size >= 0),
    claimed   timestamptz NOT NULL,
    first     bigint      CHECK (first >= 0),  -- NULL until settled
    size      bigint      CHECK (size > 0)
);
CREATE INDEX idempotency_claimed ON idempotency (claimed);
