package memstore

import "github.com/sealog/sealog/store"

// FailAppend makes every later Append, on any handle of the DB, call f
// first, before taking the DB's lock (so f may itself use the DB, say to
// let another writer commit first). What f returns decides the Append:
//
//   - nil: the Append proceeds normally.
//   - an error: the Append commits nothing and returns it (wrapped): an
//     I/O failure whose outcome, to the caller, is unknown.
//   - AfterCommit(err): the Append proceeds and, if it commits, returns
//     err (wrapped) instead of the head: the outcome is unknown to the
//     caller, but the batch is there. If it does not commit (a conflict),
//     it returns that error as usual.
//
// If the error wraps store.ErrPoisoned, the handle is poisoned too: every
// later Append on it returns an error wrapping store.ErrPoisoned, until
// the handle is closed and another one opened. Reads still work.
//
// f counts and filters Appends as it likes; to fail only the next one:
//
//	var once sync.Once
//	db.FailAppend(func(*store.Batch) (err error) {
//		once.Do(func() { err = errors.New("disk full") })
//		return err
//	})
//
// FailAppend(nil) removes the hook. f must be safe for concurrent use if
// several goroutines append.
func (db *DB) FailAppend(f func(b *store.Batch) error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.fault = f
}

// AfterCommit wraps err for a FailAppend hook: the Append commits the
// batch, then returns err.
func AfterCommit(err error) error {
	return &afterCommit{err}
}

type afterCommit struct{ err error }

func (e *afterCommit) Error() string { return "after commit: " + e.err.Error() }
func (e *afterCommit) Unwrap() error { return e.err }

// injected calls the fault hook, if any, with no lock held.
func (db *DB) injected(b *store.Batch) error {
	db.mu.RLock()
	f := db.fault
	db.mu.RUnlock()
	if f == nil {
		return nil
	}
	return f(b)
}
