package sealog

import (
	"context"
	"fmt"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/internal/commit"
	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/tree"
)

// RotateKind is the kind of the event that records a key rotation.
const RotateKind = format.RotateKind

// KeyEpoch is one key of a log's chain of keys: the verifier key, the
// first tree size it signs (From: 1 for the key the log was created with,
// R+2 for the key named by a rotation record at seq R), and the seq of
// that rotation record (Rotation; 0 and meaningless for the first key).
type KeyEpoch struct {
	VerifierKey string
	From        uint64
	Rotation    uint64
	verifier    note.Verifier
}

// Keys returns the log's chain of keys as known now, oldest first: the key
// it was created with, then one per rotation. The last signs its next
// batch.
func (l *Log) Keys() []KeyEpoch {
	l.keyMu.Lock()
	defer l.keyMu.Unlock()
	return append([]KeyEpoch(nil), l.epochs...)
}

// VerifierKey returns the log's current public verifier key: the one that
// signs its next batch.
func (l *Log) VerifierKey() string {
	l.keyMu.Lock()
	defer l.keyMu.Unlock()
	return l.epochs[len(l.epochs)-1].VerifierKey
}

// verifierFor returns the verifier of the key that signs the tree of the
// first size entries.
func (l *Log) verifierFor(size uint64) note.Verifier {
	l.keyMu.Lock()
	defer l.keyMu.Unlock()
	return epochFor(l.epochs, size).verifier
}

func epochFor(es []KeyEpoch, size uint64) *KeyEpoch {
	for i := len(es) - 1; i > 0; i-- {
		if size >= es[i].From {
			return &es[i]
		}
	}
	return &es[0]
}

// Rotate hands the log over to a new signing key: it appends a rotation
// record (an event of kind RotateKind naming next's verifier key and the
// current one), alone in its batch and signed by the current key, and
// every later batch is signed by next. The current key's last checkpoint
// is the rotation record's own (its seq + 1): verifiers that trust any key
// of the chain follow it (docs/FORMAT.md section 5a). It returns the
// record's receipt.
//
// Several Logs appending to one shared store: the others fail with an
// error saying the key was rotated once the record is in, and must be
// reopened with next.
func (l *Log) Rotate(ctx context.Context, next *Key) (Receipt, error) {
	if l.eng == nil {
		return Receipt{}, ErrReadOnly
	}
	l.rotMu.Lock()
	defer l.rotMu.Unlock()
	cur := l.VerifierKey()
	if next.Origin() != l.origin {
		return Receipt{}, fmt.Errorf("sealog: rotating %s: the new key is for origin %q, not %q", l.name, next.Origin(), l.origin)
	}
	if err := format.CheckRotationKeys(next.VerifierKey(), cur); err != nil {
		return Receipt{}, fmt.Errorf("sealog: rotating %s: %w", l.name, err)
	}
	for _, e := range l.Keys() {
		if next.Verifier().KeyHash() == e.verifier.KeyHash() {
			return Receipt{}, fmt.Errorf("sealog: rotating %s: the new key has the key hash of a key the log has used (%s): each key of the chain must be new", l.name, e.VerifierKey)
		}
	}
	if kr, ok := l.st.(keyRecorder); ok {
		if err := kr.RecordKey(ctx, next.VerifierKey()); err != nil {
			return Receipt{}, fmt.Errorf("sealog: rotating %s: %w", l.name, err)
		}
	}
	prep := make([]commit.Event, 1)
	if err := l.prepareEncoded(format.AppendRotationEvent(nil, next.VerifierKey(), cur), &prep[0]); err != nil {
		return Receipt{}, err
	}
	f, err := l.eng.SubmitRotation(ctx, prep[0], next.Signer())
	if err != nil {
		return Receipt{}, fmt.Errorf("sealog: %w", err)
	}
	rs, err := (&Pending{l: l, f: f, n: 1}).Wait(ctx)
	if err != nil {
		return Receipt{}, fmt.Errorf("sealog: rotating %s: %w", l.name, err)
	}
	l.keyMu.Lock()
	l.epochs = append(l.epochs, KeyEpoch{VerifierKey: next.VerifierKey(), From: rs[0].Seq + 2, Rotation: rs[0].Seq, verifier: next.Verifier()})
	l.key = next
	l.keyMu.Unlock()
	return rs[0], nil
}

// loadChain finds the rotations the log holds beyond the keys known, so
// that the last epoch is the key that signs the batch after head h. Each
// new key is accepted only from a rotation record whose batch checkpoint
// verifies with the key before it; a batch signed by a key no rotation
// hands over to is ErrCorrupt. It finds each rotation by bisecting the
// batch signatures (a key signs one run of batches), so it reads
// O(log n) lines per rotation.
func (l *Log) loadChain(ctx context.Context, h store.Head) error {
	l.keyMu.Lock()
	epochs := append([]KeyEpoch(nil), l.epochs...)
	l.keyMu.Unlock()
	epochs, err := l.prunedChain(ctx, epochs)
	if err != nil {
		return err
	}
	for {
		cur := epochs[len(epochs)-1]
		if h.Size < cur.From {
			break
		}
		end, err := l.lastSignedBy(ctx, cur, h.Size)
		if err != nil {
			return err
		}
		e, rotated, err := l.rotationAt(ctx, cur, end)
		if err != nil {
			return err
		}
		if !rotated {
			if end < h.Size {
				return fmt.Errorf("sealog: %s: %w: the batches after entry %d are signed by another key than %s, and no rotation record hands over to it", l.name, ErrCorrupt, end-1, cur.VerifierKey)
			}
			break
		}
		epochs = append(epochs, e)
	}
	l.keyMu.Lock()
	if len(epochs) > len(l.epochs) {
		l.epochs = epochs
	}
	l.keyMu.Unlock()
	return nil
}

// sigKeyHash returns the key hash of the batch signature ending the tree
// of the first size entries: the smallest batch end at or after size.
func (l *Log) sigKeyHash(ctx context.Context, size uint64) (end uint64, hash uint32, err error) {
	end, err = l.st.BatchEnd(ctx, size)
	if err != nil {
		return 0, 0, fmt.Errorf("sealog: %w", err)
	}
	line, err := l.st.ReadLine(ctx, end-1)
	if err != nil {
		return 0, 0, fmt.Errorf("sealog: %w", err)
	}
	ln, err := format.ParseLine(line.Bytes)
	if err != nil || ln.Sig == nil {
		return 0, 0, fmt.Errorf("sealog: entry %d: %w: the store says a batch ends there, but it carries no signature", end-1, ErrCorrupt)
	}
	return end, uint32(ln.Sig[0])<<24 | uint32(ln.Sig[1])<<16 | uint32(ln.Sig[2])<<8 | uint32(ln.Sig[3]), nil
}

// lastSignedBy returns the end of the last batch, up to size n, signed by
// epoch e's key (by key hash; rotationAt verifies the signature).
func (l *Log) lastSignedBy(ctx context.Context, e KeyEpoch, n uint64) (uint64, error) {
	want := e.verifier.KeyHash()
	if m, k, err := l.sigKeyHash(ctx, n); err != nil {
		return 0, err
	} else if k == want {
		return m, nil // the head is e's: one read, the common case
	}
	lo := max(e.From, 1, l.prunedBelow(ctx)+1) // a pruned log's first batch ends past its prune point
	end, k, err := l.sigKeyHash(ctx, lo)
	if err != nil {
		return 0, err
	}
	if k != want {
		return 0, fmt.Errorf("sealog: %s: %w: the batch ending at entry %d is not signed by %s, the key in effect there", l.name, ErrCorrupt, end-1, e.VerifierKey)
	}
	// Invariant: the batch ending at end (>= lo) is signed by e's key;
	// every batch ending past hi is not.
	hi := n
	for end < hi {
		mid := end + (hi-end+1)/2
		m, k, err := l.sigKeyHash(ctx, mid)
		if err != nil {
			return 0, err
		}
		if k == want {
			end = m
		} else {
			hi = mid - 1
		}
	}
	return end, nil
}

// prunedBelow returns the log's prune point (docs/FORMAT.md §13), or 0.
func (l *Log) prunedBelow(ctx context.Context) uint64 {
	if pr, ok := l.st.(store.Pruner); ok {
		if p, err := pr.Pruned(ctx); err == nil && p != nil {
			return p.Below
		}
	}
	return 0
}

// rotationAt reports whether entry end-1 is a rotation record handing over
// from epoch cur, its batch checkpoint verified with cur's key, and if so
// the new epoch.
func (l *Log) rotationAt(ctx context.Context, cur KeyEpoch, end uint64) (KeyEpoch, bool, error) {
	line, err := l.st.ReadLine(ctx, end-1)
	if err != nil {
		return KeyEpoch{}, false, fmt.Errorf("sealog: %w", err)
	}
	ln, err := format.ParseLine(line.Bytes)
	if err != nil {
		return KeyEpoch{}, false, fmt.Errorf("sealog: entry %d: %w: %w", end-1, ErrCorrupt, err)
	}
	if ln.Erased {
		return KeyEpoch{}, false, nil
	}
	r, ok := format.ParseRotation(ln.Event)
	if !ok {
		return KeyEpoch{}, false, nil
	}
	bad := func(why string) (KeyEpoch, bool, error) {
		return KeyEpoch{}, false, fmt.Errorf("sealog: %s: entry %d: %w: a rotation record that %s", l.name, end-1, ErrCorrupt, why)
	}
	if r.Prev != cur.VerifierKey {
		return bad("hands over from another key than " + cur.VerifierKey)
	}
	v, err := note.NewVerifier(r.Key)
	if err != nil || v.Name() != l.origin {
		return bad("names a malformed key or one of another origin")
	}
	root, err := tlog.TreeHash(int64(end), l.HashReader(ctx))
	if err != nil {
		return KeyEpoch{}, false, fmt.Errorf("sealog: %w", err)
	}
	text := checkpoint.Checkpoint{Origin: l.origin, Size: end, Root: root}.Text()
	if !checkpoint.VerifyText(cur.verifier, text, ln.Sig) {
		return bad("is not signed by the key it hands over from")
	}
	h := ln.Header()
	proof, err := tlog.ProveRecord(int64(end), int64(end-1), l.HashReader(ctx))
	if err != nil {
		return KeyEpoch{}, false, fmt.Errorf("sealog: %w", err)
	}
	if tlog.CheckRecord(proof, int64(end), root, int64(end-1), h.LeafHash()) != nil {
		return bad("is not in the tree its signature covers")
	}
	return KeyEpoch{VerifierKey: r.Key, From: end + 1, Rotation: end - 1, verifier: v}, true, nil
}

// prunedChain follows the rotation records that a prune deleted, from
// the prune state (docs/FORMAT.md §13.2), when epochs knows none of them
// yet: each is checked against the tree at the prune point and its
// signature verified with the key before it, as a verifier does.
func (l *Log) prunedChain(ctx context.Context, epochs []KeyEpoch) ([]KeyEpoch, error) {
	pr, ok := l.st.(store.Pruner)
	if !ok {
		return epochs, nil
	}
	st, err := pr.Pruned(ctx)
	if err != nil {
		return nil, fmt.Errorf("sealog: %w", err)
	}
	if st == nil || len(st.Rotations) == 0 {
		return epochs, nil
	}
	edge, err := tree.FromHashes(st.Below, st.Edge)
	if err != nil {
		return nil, fmt.Errorf("sealog: %s: %w: the prune state: %v", l.name, ErrCorrupt, err)
	}
	root := edge.Root()
	for i := range st.Rotations {
		kc, err := st.Rotations[i].Check(st.Below, root)
		if err != nil {
			return nil, fmt.Errorf("sealog: %s: %w: a rotation record the prune state keeps: %v", l.name, ErrCorrupt, err)
		}
		if known := epochs[len(epochs)-1]; len(epochs) > 1 && kc.Seq <= known.Rotation {
			continue // followed already
		}
		cur := epochFor(epochs, kc.Size)
		v, err := note.NewVerifier(kc.Rotation.Key)
		switch {
		case kc.Rotation.Prev != cur.VerifierKey:
			err = fmt.Errorf("hands over from another key than %s", cur.VerifierKey)
		case err != nil || v.Name() != l.origin:
			err = fmt.Errorf("names a malformed key or one of another origin")
		case !checkpoint.VerifyText(cur.verifier, checkpoint.Checkpoint{Origin: l.origin, Size: kc.Size, Root: kc.Root}.Text(), kc.Sig):
			err = fmt.Errorf("is not signed by the key it hands over from")
		}
		if err != nil {
			return nil, fmt.Errorf("sealog: %s: entry %d: %w: the prune state keeps a rotation record that %v", l.name, kc.Seq, ErrCorrupt, err)
		}
		epochs = append(epochs, KeyEpoch{VerifierKey: kc.Rotation.Key, From: kc.Size + 1, Rotation: kc.Seq, verifier: v})
	}
	return epochs, nil
}

// keyRecorder is a store that keeps the keys a log was rotated to, for its
// own checks of the signatures (the file store).
type keyRecorder interface {
	RecordKey(ctx context.Context, vkey string) error
}
