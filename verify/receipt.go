package verify

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/checkpoint"
)

// Receipt is what an append returns: proof that an event is in the log.
// Kept by the client, it lets the log never deny the event later: the
// checkpoint is signed by the log's key and the proof ties the leaf to
// its root. (Package sealog's Receipt is this type.)
type Receipt struct {
	Seq      uint64    `json:"seq"`
	Time     time.Time `json:"time"`
	LeafHash tlog.Hash `json:"leaf_hash"`
	// Checkpoint is the signed C2SP checkpoint of the batch that committed
	// the event.
	Checkpoint string `json:"checkpoint"`
	// Proof is the inclusion proof of LeafHash in Checkpoint's tree (set
	// by the writer on request, or later by Log.Prove).
	Proof tlog.RecordProof `json:"proof,omitempty"`
	// Timestamp, if set, is the RFC 3161 timestamp that covers the entry
	// (docs/TIME.md): the log's token for the smallest timestamped tree
	// at least as large as Checkpoint's. An append cannot have it yet:
	// Log.AddTimestamp, or GET /v1/entries/{seq}?timestamp=true, adds it
	// once the log's TSA stamped a checkpoint. VerifyReceiptTimestamp
	// checks it.
	Timestamp *ReceiptTimestamp `json:"timestamp,omitempty"`
}

// ReceiptTimestamp is the RFC 3161 timestamp a receipt carries, with
// what ties it to the receipt's checkpoint, so that the receipt alone
// proves the entry existed before the token's time.
type ReceiptTimestamp struct {
	// TSR is the DER TimeStampResp (base64 in JSON) whose message imprint
	// is the SHA-256 of the text of the checkpoint it covers
	// (docs/FORMAT.md §12.3).
	TSR []byte `json:"tsr"`
	// Checkpoint is the signed checkpoint the token covers, when it is
	// not the receipt's (a later one: the TSA stamped no checkpoint of
	// the receipt's size); empty when it is the receipt's.
	Checkpoint string `json:"checkpoint,omitempty"`
	// Consistency proves that the receipt's checkpoint's tree is a
	// prefix of Checkpoint's (empty when Checkpoint is).
	Consistency tlog.TreeProof `json:"consistency,omitempty"`
}

// VerifyReceipt checks a receipt offline, with nothing but the log's
// verifier key: its checkpoint is signed by that key, and its proof ties
// the receipt's leaf hash to the checkpoint's root. It returns the
// checkpoint, which an auditor can keep as a trusted checkpoint for a
// later verification of the whole log (Options.Checkpoint). It does not
// look at r.Timestamp: VerifyReceiptTimestamp does.
func VerifyReceipt(r Receipt, verifierKey string) (checkpoint.Checkpoint, error) {
	v, err := note.NewVerifier(verifierKey)
	if err != nil {
		return checkpoint.Checkpoint{}, fmt.Errorf("malformed verifier key: %v", err)
	}
	c, _, err := checkpoint.Open([]byte(r.Checkpoint), note.VerifierList(v), v.Name())
	if err != nil {
		return checkpoint.Checkpoint{}, fmt.Errorf("receipt for entry %d: %w", r.Seq, err)
	}
	if r.Seq >= c.Size {
		return checkpoint.Checkpoint{}, fmt.Errorf("receipt for entry %d: its checkpoint covers only %d entries", r.Seq, c.Size)
	}
	if r.Proof == nil && c.Size > 1 {
		return checkpoint.Checkpoint{}, fmt.Errorf("receipt for entry %d has no inclusion proof (Log.Prove adds it)", r.Seq)
	}
	if err := tlog.CheckRecord(r.Proof, int64(c.Size), c.Root, int64(r.Seq), r.LeafHash); err != nil {
		return checkpoint.Checkpoint{}, fmt.Errorf("receipt for entry %d: the inclusion proof does not verify: %v", r.Seq, err)
	}
	return c, nil
}

// VerifyReceiptTimestamp checks a receipt offline as VerifyReceipt does,
// and the RFC 3161 timestamp it carries with ts (tstoken.Checker, with
// the roots of the TSAs the caller trusts): the token must be over the
// receipt's checkpoint, or over a later checkpoint of the same log whose
// tree, by r.Timestamp.Consistency, extends the receipt's. That later
// checkpoint may be signed by any key (one the log rotated to, say): its
// signature is not what the token or the proof rest on. It
// returns the receipt's checkpoint and what the token says: the entry
// existed before its Time, on the word of its TSA. A token whose signer
// does not chain to the checker's roots is an error; with a checker
// without roots, Signer is SignerUnchecked (the token is bound to the
// entry, but who signed it was not checked).
func VerifyReceiptTimestamp(r Receipt, verifierKey string, ts TimestampChecker) (checkpoint.Checkpoint, TimestampCheck, error) {
	c, err := VerifyReceipt(r, verifierKey)
	if err != nil {
		return c, TimestampCheck{}, err
	}
	t := r.Timestamp
	if t == nil || len(t.TSR) == 0 {
		return c, TimestampCheck{}, fmt.Errorf("receipt for entry %d carries no timestamp", r.Seq)
	}
	covered := c
	if t.Checkpoint != "" {
		// The later checkpoint's signature is not checked: the token
		// vouches for its text, the consistency proof ties that tree to
		// the receipt's (verified with verifierKey), and a signature would
		// add nothing to "existed before the token's time". Requiring
		// verifierKey would refuse every token made after a key rotation.
		later, err := checkpoint.ParseUnverified([]byte(t.Checkpoint))
		if err != nil {
			return c, TimestampCheck{}, fmt.Errorf("receipt for entry %d: the timestamp's checkpoint: %w", r.Seq, err)
		}
		switch {
		case later.Origin != c.Origin:
			return c, TimestampCheck{}, fmt.Errorf("receipt for entry %d: the timestamp's checkpoint is of log %q, not %q", r.Seq, later.Origin, c.Origin)
		case later.Size < c.Size:
			return c, TimestampCheck{}, fmt.Errorf("receipt for entry %d: the timestamp's checkpoint has %d entries, fewer than the receipt's %d", r.Seq, later.Size, c.Size)
		}
		if err := tlog.CheckTree(t.Consistency, int64(later.Size), later.Root, int64(c.Size), c.Root); err != nil {
			return c, TimestampCheck{}, fmt.Errorf("receipt for entry %d: the consistency proof from its checkpoint (size %d) to the timestamp's (size %d) does not verify: %v", r.Seq, c.Size, later.Size, err)
		}
		covered = later
	} else if len(t.Consistency) > 0 {
		return c, TimestampCheck{}, fmt.Errorf("receipt for entry %d: the timestamp has a consistency proof but no checkpoint to prove it against", r.Seq)
	}
	msg := checkpoint.Checkpoint{Origin: covered.Origin, Size: covered.Size, Root: covered.Root}.Text()
	tc, err := ts.CheckTimestamp(t.TSR, msg)
	switch {
	case errors.Is(err, ErrTimestampImprint):
		return c, TimestampCheck{}, fmt.Errorf("receipt for entry %d: the timestamp is not over the checkpoint of size %d: it was made for another checkpoint", r.Seq, covered.Size)
	case err != nil:
		return c, TimestampCheck{}, fmt.Errorf("receipt for entry %d: the timestamp: %w", r.Seq, err)
	case tc.Signer == SignerUntrusted:
		return c, tc, fmt.Errorf("receipt for entry %d: the timestamp: %s", r.Seq, tc.Problem)
	}
	return c, tc, nil
}
