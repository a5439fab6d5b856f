package postgres

import (
	"bytes"
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/tree"
)

// A writer that loses the race for the head row keeps its turn: it holds
// the row's lock, in a transaction left open, until it appends its
// re-sequenced batch. Without that, under load, the writer whose next
// batch is ready the moment its commit returns would win every race: the
// loser needs a round trip to reload the head and must re-sign before it
// can try again, and by then the winner holds the lock once more.
//
// The turn ends when the Store's next Append commits in it or is refused,
// when Close is called, or after Options.TurnTimeout without an Append (a
// writer that gave up), whichever is first. Other writers wait for it
// meanwhile, as they would for a transaction in progress, so the turn is
// kept short: while it lasts nothing can commit, so the Store answers Head
// and the reads of the tree's right edge (all a writer reads to
// re-sequence its batch) from what it read when it took the turn, without
// a round trip to the server.

// DefaultTurnTimeout is how long a Store that lost a race holds the head
// row for its retry, when Options.TurnTimeout is zero.
const DefaultTurnTimeout = 100 * time.Millisecond

// turn is a transaction that holds the head row's lock.
type turn struct {
	tx    pgx.Tx
	head  store.Head // the head row as locked
	timer *time.Timer
	view  *turnView
}

// turnView is the log as a turn found it: the head, and the stored hashes
// of the tree's right edge at its size (tree.EdgeIndexes), by index. It is
// not modified once made.
type turnView struct {
	head store.Head
	edge map[int64]tlog.Hash
}

// viewHead returns the head the Store's turn holds, if it holds one.
func (s *Store) viewHead() (store.Head, bool) {
	v := s.view.Load()
	if v == nil {
		return store.Head{}, false
	}
	h := v.head
	h.Checkpoint = bytes.Clone(h.Checkpoint)
	return h, true
}

// viewHashes returns the hashes at indexes from the Store's turn, if it
// holds one that has them all.
func (s *Store) viewHashes(indexes []int64) ([]tlog.Hash, bool) {
	v := s.view.Load()
	if v == nil {
		return nil, false
	}
	out := make([]tlog.Hash, len(indexes))
	for i, idx := range indexes {
		h, ok := v.edge[idx]
		if !ok {
			return nil, false
		}
		out[i] = h
	}
	return out, true
}

// rollback ends the turn's transaction, releasing the lock.
func (t *turn) rollback() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	t.tx.Rollback(ctx) // the error is moot: the lock goes with the transaction or the connection
}

// takeTurn returns the turn the Store holds, if any, stopping its timer.
// s.appendMu is held.
func (s *Store) takeTurn() *turn {
	t := s.turn
	if t == nil {
		return nil
	}
	s.turn = nil
	s.view.Store(nil)
	t.timer.Stop()
	return t
}

// keepTurn holds t until the next Append, for at most the turn timeout,
// reading the tree's right edge first for its view, and reports whether
// it does. If that fails the turn ends. s.appendMu is held.
func (s *Store) keepTurn(ctx context.Context, t *turn) bool {
	if s.turnTimeout < 0 {
		t.rollback()
		return false
	}
	if t.view == nil {
		idx := tree.EdgeIndexes(t.head.Size)
		hs, err := s.readHashes(ctx, t.tx, idx)
		if err != nil {
			t.rollback()
			return false
		}
		v := &turnView{head: t.head, edge: make(map[int64]tlog.Hash, len(idx))}
		for i, x := range idx {
			v.edge[x] = hs[i]
		}
		t.view = v
	}
	s.turn = t
	s.view.Store(t.view)
	t.timer = time.AfterFunc(s.turnTimeout, func() {
		s.appendMu.Lock()
		defer s.appendMu.Unlock()
		if s.turn == t {
			s.turn = nil
			s.view.Store(nil)
			t.rollback()
			s.releaseLease() // the writer gave up: let the others in
		}
	})
	return true
}

// endTurn releases the turn the Store holds, if any.
func (s *Store) endTurn() {
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	if t := s.takeTurn(); t != nil {
		t.rollback()
	}
}
