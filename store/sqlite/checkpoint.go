package sqlite

import (
	"context"
	"database/sql"
	"os"
	"sync/atomic"
	"time"
)

// checkpointEvery is how often the checkpointer copies the WAL into the
// database file, if anything was committed since it last did.
const checkpointEvery = 100 * time.Millisecond

// walLimit is the WAL size past which the checkpointer restarts the WAL
// (PRAGMA wal_checkpoint(RESTART)), and the size SQLite truncates it to
// when it is reused (journal_size_limit).
const walLimit = 16 << 20

// The writer does not checkpoint the WAL itself (wal_autocheckpoint=0):
// SQLite would make every thousandth commit copy the WAL's pages into the
// file and fsync it before returning. A checkpointer goroutine does that
// instead, on its own connection, with PRAGMA wal_checkpoint(PASSIVE),
// which never blocks the writer or the readers: the commits wait for one
// fsync only. The WAL is reused from its start once it is all copied and
// no reader is in it; readers that never stop can keep it from that, so
// past walLimit the checkpointer runs a RESTART checkpoint, which waits
// (SQLite's busy handler) for the readers in the WAL to finish and makes
// the writer wait meanwhile. Each Store that writes runs one checkpointer;
// when several processes share the file, their checkpoints take turns (a
// busy one is skipped).
type checkpointer struct {
	db      *sql.DB
	wal     string       // the WAL's path
	commits atomic.Int64 // commits since the last checkpoint
	stop    chan struct{}
	done    chan struct{}
}

// startCheckpointer starts the checkpointer on db, a connection pool of
// its own.
func startCheckpointer(db *sql.DB, path string) *checkpointer {
	c := &checkpointer{db: db, wal: path + "-wal", stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

func (c *checkpointer) run() {
	defer close(c.done)
	tick := time.NewTicker(checkpointEvery)
	defer tick.Stop()
	for {
		select {
		case <-c.stop:
			c.checkpoint()
			return
		case <-tick.C:
			if c.commits.Load() > 0 {
				c.checkpoint()
			}
		}
	}
}

// checkpoint copies what it can of the WAL into the file. Errors are
// left for the next round: the WAL keeps every committed page until then.
func (c *checkpointer) checkpoint() {
	c.commits.Store(0)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	mode := "PASSIVE"
	if fi, err := os.Stat(c.wal); err == nil && fi.Size() > walLimit {
		mode = "RESTART"
	}
	var busy, frames, copied int
	c.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(`+mode+`)`).Scan(&busy, &frames, &copied)
}

// close runs a last checkpoint and stops the checkpointer.
func (c *checkpointer) close() error {
	close(c.stop)
	<-c.done
	return c.db.Close()
}
