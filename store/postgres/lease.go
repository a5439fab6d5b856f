package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The writer lease. Several Stores (processes, servers) appending to one
// log race for its head row with every batch: after each commit, every
// other writer's batch was built on the head before it and fails, and is
// re-sequenced, so with three writers nearly every batch is appended
// twice (0.8 conflicts per batch). The lease orders them instead: a
// session-level advisory lock that a Store takes before it appends and
// keeps while it goes on appending, for up to Options.WriterLease, or
// until it has had nothing to append for leaseIdle. The others wait for it
// in pg_advisory_lock (for a bounded time: leaseWaits), their callers
// gathering into larger batches meanwhile, and only the first batch after
// a handover conflicts.
//
// The lease orders writers; it guarantees nothing. The conditional
// append (the head row's size) is what keeps the log without gap or fork,
// with or without it: a lease lost with its connection, or a writer that
// takes none (an older sealog, or WriterLease < 0), costs conflicts, not
// correctness. A Store never waits for the lease while it holds a turn
// (the head row's lock): it takes the turn only under the lease, and
// keeps the lease as long as the turn.

// DefaultWriterLease is how long a Store keeps the writer lease while it
// goes on appending, when Options.WriterLease is zero.
const DefaultWriterLease = 20 * time.Millisecond

// leaseIdle is how long a Store keeps the lease without an append.
const leaseIdle = 2 * time.Millisecond

// leaseWaits is how many lease times a Store waits for the lease before
// it appends without it; it then takes none for leaseSkip, twice as long
// after each further wait in vain, up to leaseSkipMax, until it has the
// lease again. A holder that stopped (a frozen process, a stuck network)
// keeps its session, and its lock, alive: the others must not wait for
// it, only race as before, and must not stall their appends for a wait
// every second while it lasts.
const (
	leaseWaits   = 10
	leaseSkipMax = time.Minute
)

// leaseSkip is the first pause after a wait in vain; tests shorten it.
var leaseSkip = time.Second

// writerLease is a Store's hold on the writer lease: the connection whose
// session holds the advisory lock, when it was taken, and the timer that
// gives it back when the Store stops appending (armed after each append).
type writerLease struct {
	conn  *pgxpool.Conn
	since time.Time
	idle  *time.Timer
}

// takeLease waits for the writer lease, unless the Store holds it or
// takes none, for up to leaseWaits lease times. If it cannot have it
// then, or cannot take it at all, the Store appends without it, and
// takes none for a while (skipLease): the lease is an optimisation, and
// never fails or stalls an append. s.appendMu is held.
func (s *Store) takeLease(ctx context.Context) {
	if s.leaseFor < 0 {
		return
	}
	if s.lease.conn != nil {
		s.lease.idle.Stop() // held: appending again
		return
	}
	if s.turn != nil || time.Now().Before(s.leaseSkipUntil) {
		return // a turn taken without it (never wait holding the head row), or skipping
	}
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		s.skipLease()
		return
	}
	// lock_timeout bounds the wait; SET LOCAL keeps it to this
	// transaction, and the session's lock outlives the transaction.
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue(fmt.Sprintf("SET LOCAL lock_timeout = %d", max((leaseWaits*s.leaseFor).Milliseconds(), 1))) // 0 would be no limit
	b.Queue(`SELECT pg_advisory_lock(hashtextextended($1, 0))`, s.leaseName())
	b.Queue("COMMIT")
	err = c.SendBatch(ctx, b).Close()
	if err != nil {
		rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if _, rerr := c.Exec(rctx, "ROLLBACK"); rerr != nil {
			c.Conn().Close(rctx)
		}
		cancel()
		c.Release()
		s.skipLease()
		return
	}
	s.leaseMisses = 0
	l := writerLease{conn: c, since: time.Now()}
	l.idle = time.AfterFunc(time.Hour, func() {
		s.appendMu.Lock()
		defer s.appendMu.Unlock()
		if s.lease.conn == c && s.turn == nil {
			s.releaseLease()
		}
	})
	l.idle.Stop() // armed by afterAppend
	s.lease = l
}

// skipLease takes no lease for a while after a wait for it in vain:
// leaseSkip, doubled for each such wait since the lease was last held,
// at most leaseSkipMax. s.appendMu is held.
func (s *Store) skipLease() {
	s.leaseMisses++
	pause := leaseSkipMax
	if n := s.leaseMisses - 1; n < 16 {
		pause = min(leaseSkip<<n, leaseSkipMax)
	}
	s.leaseSkipUntil = time.Now().Add(pause)
}

// leaseName names the lease's advisory lock (hashed by the server).
func (s *Store) leaseName() string { return "sealog writer lease " + s.schema }

// afterAppend gives the lease back once it was held for the lease time,
// or after leaseIdle without another append; a Store that holds a turn
// keeps it for the retry. s.appendMu is held.
func (s *Store) afterAppend() {
	if s.lease.conn == nil || s.turn != nil {
		return
	}
	if time.Since(s.lease.since) >= s.leaseFor {
		s.releaseLease()
		return
	}
	s.lease.idle.Reset(leaseIdle)
}

// releaseLease gives the lease back, if the Store holds it. A connection
// that cannot say so is closed: the lock goes with its session. s.appendMu
// is held.
func (s *Store) releaseLease() {
	l := s.lease
	if l.conn == nil {
		return
	}
	l.idle.Stop()
	s.lease = writerLease{}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := l.conn.Exec(ctx, `SELECT pg_advisory_unlock(hashtextextended($1, 0))`, s.leaseName()); err != nil {
		l.conn.Conn().Close(ctx)
	}
	l.conn.Release()
}
