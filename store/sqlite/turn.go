package sqlite

import (
	"database/sql"
	"time"

	"github.com/sealog/sealog/store"
)

// A writer that loses the race for the file keeps its turn: it holds the
// write lock, in the transaction that found the head moved, until it
// appends its re-sequenced batch. Without that, the writer whose next
// batch is ready the moment its commit returns would take the lock again
// and again, while the loser reloads the head and re-signs (or sleeps in
// SQLite's busy handler).
//
// The turn ends when the Store's next Append commits in it or is refused,
// when Close is called, or after Options.TurnTimeout without an Append (a
// writer that gave up), whichever is first. Other writers wait for it
// meanwhile, as they would for a transaction in progress.

// turn is a write transaction (BEGIN IMMEDIATE) that holds the lock.
type turn struct {
	tx    *sql.Tx
	head  store.Head // the head as read in tx
	timer *time.Timer
}

// rollback ends the turn's transaction, releasing the lock.
func (t *turn) rollback() {
	t.tx.Rollback() // the error is moot: the lock goes with the transaction or the connection
}

// takeTurn returns the turn the Store holds, if any, stopping its timer.
// s.appendMu is held.
func (s *Store) takeTurn() *turn {
	t := s.turn
	if t == nil {
		return nil
	}
	s.turn = nil
	t.timer.Stop()
	return t
}

// keepTurn holds t until the next Append, for at most the turn timeout,
// and reports whether it does. s.appendMu is held.
func (s *Store) keepTurn(t *turn) bool {
	if s.turnTimeout < 0 {
		t.rollback()
		return false
	}
	s.turn = t
	t.timer = time.AfterFunc(s.turnTimeout, func() {
		s.appendMu.Lock()
		defer s.appendMu.Unlock()
		if s.turn == t {
			s.turn = nil
			t.rollback()
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
