package postgres

import (
	"strings"

	"github.com/jackc/pgx/v5"
)

// queries are the store's statements, with the schema's tables named in
// full (quoted), made once at Open.
type queries struct {
	insertMeta, selectMeta string
	selectHead, lockHead   string
	appendBatch            string
	lockEntries, erase     string
	readLine, readLines    string
	readHashes, batchEnd   string
	dumpLines              string

	// pruning (prune.go)
	batchBelow, batchEnds    string
	selectPruned, lockPruned string
	keepHashes, deletePruned string
	writePruned              string
}

func makeQueries(schema string) queries {
	t := func(q string) string {
		for _, table := range []string{"meta", "head", "entries", "batches", "pruned_hashes", "pruned"} {
			q = strings.ReplaceAll(q, "{"+table+"}", pgx.Identifier{schema, table}.Sanitize())
		}
		return q
	}
	return queries{
		insertMeta: t(`INSERT INTO {meta} (format, origin, key, created) VALUES ($1, $2, $3, $4)`),
		selectMeta: t(`SELECT format, origin, key, created FROM {meta}`),
		selectHead: t(`SELECT size, last_leaf, last_time, checkpoint FROM {head}`),
		lockHead:   t(`SELECT size, last_leaf, last_time, checkpoint FROM {head} FOR UPDATE`),

		// appendBatch is the conditional append in one statement: the
		// UPDATE moves the head only if its size is the batch's first seq
		// ($1), and takes the head row's lock until the transaction ends
		// (a writer that races waits for it, then finds the size moved);
		// the batch row and the entries are inserted only if it did. It
		// inserts len(lines) entries, or none.
		appendBatch: t(`
WITH moved AS (
	UPDATE {head} SET size = $2, last_leaf = $3, last_time = $4, checkpoint = $5, updated = now()
	WHERE size = $1
	RETURNING size
), batch AS (
	INSERT INTO {batches} (size, first, checkpoint) SELECT size, $1, $5 FROM moved
)
INSERT INTO {entries} (seq, time_ns, kind, actor, resource, leaf, nodes, line)
SELECT $1 + e.i - 1, e.time_ns, nullif(e.kind, ''), nullif(e.actor, ''), nullif(e.resource, ''), e.leaf, e.nodes, e.line
FROM moved, unnest($6::bigint[], $7::text[], $8::text[], $9::text[], $10::bytea[], $11::bytea[], $12::bytea[])
	WITH ORDINALITY AS e(time_ns, kind, actor, resource, leaf, nodes, line, i)`),

		lockEntries: t(`SELECT seq, leaf, line FROM {entries} WHERE seq = ANY($1) FOR UPDATE`),
		erase: t(`
UPDATE {entries} SET line = e.line, kind = NULL, actor = NULL, resource = NULL
FROM unnest($1::bigint[], $2::bytea[]) AS e(seq, line)
WHERE {entries}.seq = e.seq`),

		readLine:  t(`SELECT leaf, line FROM {entries} WHERE seq = $1`),
		readLines: t(`SELECT seq, leaf, line FROM {entries} WHERE seq >= $1 AND seq < $2 ORDER BY seq LIMIT $3`),
		// readHashes reads the hashes the entries hold and, for the
		// entries a prune deleted, those pruned_hashes keeps.
		readHashes: t(`SELECT seq, leaf, nodes FROM {entries} WHERE seq = ANY($1)
UNION ALL SELECT seq, leaf, nodes FROM {pruned_hashes} WHERE seq = ANY($1)`),
		batchEnd:  t(`SELECT size FROM {batches} WHERE size >= $1 ORDER BY size LIMIT 1`),
		dumpLines: t(`SELECT seq, line FROM {entries} WHERE seq > $1 OR $2 ORDER BY seq LIMIT $3`),

		batchBelow:   t(`SELECT size FROM {batches} WHERE size <= $1 ORDER BY size DESC LIMIT 1`),
		batchEnds:    t(`SELECT EXISTS (SELECT 1 FROM {batches} WHERE size = $1)`),
		selectPruned: t(`SELECT below, state FROM {pruned}`),
		lockPruned:   t(`SELECT below FROM {pruned} FOR UPDATE`),
		keepHashes: t(`INSERT INTO {pruned_hashes} (seq, leaf, nodes)
SELECT seq, leaf, nodes FROM {entries} WHERE seq < $1 ON CONFLICT (seq) DO NOTHING`),
		deletePruned: t(`DELETE FROM {entries} WHERE seq < $1`),
		writePruned: t(`INSERT INTO {pruned} (below, state) VALUES ($1, $2)
ON CONFLICT (id) DO UPDATE SET below = excluded.below, state = excluded.state, pruned = now()`),
	}
}
