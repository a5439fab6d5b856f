package verify

import (
	"fmt"

	"golang.org/x/mod/sumdb/note"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/format"
)

// The chain of keys (docs/FORMAT.md section 5a). A log starts with one
// key; a rotation record at seq R, ending its batch and signed by the key
// in effect, names the next key, which signs every tree of size R+2 and
// more. The verifier follows the chain as it streams: a rotation record
// is checked (its signature verified with the key it hands over from) the
// moment it is read, so every later batch signature is held to the key
// the chain authorises for it, and one by any other key fails.

// epoch is one key of the chain and the first tree size it signs.
type epoch struct {
	from     uint64 // first tree size signed by this key (1 for the first)
	rotation uint64 // seq of the record that named it (not for the first)
	vkey     string
	v        note.Verifier
	checked  bool // its rotation record's signature was verified (the tree was intact)
}

// keyChain is the chain as far as the stream has read it.
type keyChain struct {
	origin string
	// candidates for the first key, in order of preference: the trusted
	// keys, then (unless noLogKey) the key stored in the log. The first
	// batch signature's key hash picks one; failing that, the first.
	candidates []candidate
	chosen     bool
	matched    bool // a candidate's key hash is the first batch signature's
	epochs     []epoch
}

type candidate struct {
	vkey string
	v    note.Verifier
}

func newKeyChain(origin string, candidates []candidate) *keyChain {
	c := &keyChain{origin: origin, candidates: candidates}
	c.epochs = []epoch{{from: 1, vkey: candidates[0].vkey, v: candidates[0].v}}
	return c
}

// choose picks the first key from the key hash of the first batch
// signature, once.
func (c *keyChain) choose(sig []byte) {
	if c.chosen {
		return
	}
	c.chosen = true
	h := keyHashOf(sig)
	for _, k := range c.candidates {
		if k.v.KeyHash() == h && k.v.Name() == c.origin {
			c.epochs[0].vkey, c.epochs[0].v = k.vkey, k.v
			c.matched = true
			return
		}
	}
}

// at returns the epoch whose key signs the tree of the first size entries.
func (c *keyChain) at(size uint64) *epoch {
	for i := len(c.epochs) - 1; i > 0; i-- {
		if size >= c.epochs[i].from {
			return &c.epochs[i]
		}
	}
	return &c.epochs[0]
}

// rotate takes rotation record r at seq; p is the signature point on its
// line (nil when the line carries none). It returns why the record is
// forged, or "" when the chain now goes on with its key. A record whose
// signature cannot be checked (the tree is broken before it: the log is
// damaged anyway) is followed unchecked, so that the damage is located
// where it is rather than at every later batch.
func (c *keyChain) rotate(seq uint64, r format.Rotation, p *sigPoint) string {
	if !c.matched {
		// No key given signs the log's first batch: no rotation can be
		// judged (the verdict is about the key, or about that batch).
		return ""
	}
	cur := c.at(seq + 1)
	if p == nil {
		return fmt.Sprintf("entry %d is a rotation record, but it does not end its batch (it carries no signature): a forged rotation", seq)
	}
	if r.Prev != cur.vkey {
		return fmt.Sprintf("entry %d is a rotation record handing over from key %s, but the key in effect there is %s: a forged rotation", seq, r.Prev, cur.vkey)
	}
	v, err := note.NewVerifier(r.Key)
	if err != nil || v.Name() != c.origin {
		return fmt.Sprintf("entry %d is a rotation record naming %q, which is not a verifier key of %q: a forged rotation", seq, r.Key, c.origin)
	}
	for _, e := range c.epochs {
		if e.v.KeyHash() == v.KeyHash() {
			return fmt.Sprintf("entry %d is a rotation record naming a key the chain already used (%s): a forged rotation", seq, e.vkey)
		}
	}
	checked := false
	if p.ok {
		if !checkpoint.VerifyText(cur.v, checkpoint.Checkpoint{Origin: c.origin, Size: p.size, Root: p.root}.Text(), p.sig) {
			return fmt.Sprintf("entry %d is a rotation record to key %s, but its signature does not verify with %s, the key it hands over from: a forged rotation", seq, r.Key, cur.vkey)
		}
		checked = true
	}
	c.epochs = append(c.epochs, epoch{from: seq + 2, rotation: seq, vkey: r.Key, v: v, checked: checked})
	return ""
}

// KeyRange is one key of a log's chain of keys and the entries whose
// batches it signs.
type KeyRange struct {
	Key string `json:"key"`
	// First and Last are the seqs of the first and last entries whose
	// batch signature is this key's; Last is nil when it has signed none
	// yet (a rotation record ends the log).
	First uint64  `json:"first"`
	Last  *uint64 `json:"last"`
	// Rotation is the seq of the rotation record that named the key (nil
	// for the log's first key).
	Rotation *uint64 `json:"rotation"`
	// Trusted says the key is one the auditor gave (Options.Key or Keys).
	Trusted bool `json:"trusted"`
}

// ranges reports the chain's keys and their seq ranges in a log of n
// entries.
func (c *keyChain) ranges(n uint64, trusted map[string]bool) []KeyRange {
	out := make([]KeyRange, len(c.epochs))
	for i, e := range c.epochs {
		kr := KeyRange{Key: e.vkey, Trusted: trusted[keyID(e.v)]}
		if i > 0 {
			kr.First = e.from - 1
			kr.Rotation = ptr(e.rotation)
		}
		if i+1 < len(c.epochs) {
			kr.Last = ptr(c.epochs[i+1].rotation)
		} else if n > 0 && n-1 >= kr.First {
			kr.Last = ptr(n - 1)
		}
		out[i] = kr
	}
	return out
}

// hasTrusted reports whether a key of the chain is trusted.
func (c *keyChain) hasTrusted(trusted map[string]bool) bool {
	for _, e := range c.epochs {
		if trusted[keyID(e.v)] {
			return true
		}
	}
	return false
}

// keyID names a key by its name and key hash, as signatures do.
func keyID(v note.Verifier) string { return fmt.Sprintf("%s+%08x", v.Name(), v.KeyHash()) }

// writeKeys lists the chain of keys in the text report, when the log was
// rotated.
func (r *Report) writeKeys(p func(string, string, ...any), more func(string, ...any)) {
	if len(r.Keys) < 2 {
		return
	}
	p("keys:", "%d, in turn (rotated by the log's rotation records):", len(r.Keys))
	for _, k := range r.Keys {
		span := "no entries yet"
		if k.Last != nil {
			span = fmt.Sprintf("entries %d to %d", k.First, *k.Last)
		}
		trusted := ""
		if k.Trusted {
			trusted = " (trusted)"
		}
		more("%s%s: %s", k.Key, trusted, span)
	}
}
