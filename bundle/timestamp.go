package bundle

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/tstoken"
)

// TimestampResult is what a bundle's RFC 3161 timestamp says: every entry
// of the bundle existed before Time, on the word of TSA (docs/TIME.md).
type TimestampResult struct {
	Time time.Time `json:"time,omitzero"`
	TSA  string    `json:"tsa,omitempty"`
	// Status: "ok" (signer checked against the TSA roots given), "bound"
	// (it covers the bundle's checkpoint; no roots were given), "bad".
	Status  string `json:"status"`
	Problem string `json:"problem,omitempty"`
}

// timestampSource is a Source that holds RFC 3161 timestamps: a
// *sealog.Log.
type timestampSource interface {
	Timestamps(ctx context.Context, fn func(size uint64, tsr []byte) error) error
}

// timestampSize returns the size of the newest timestamped checkpoint
// covering every seq, for Options.Timestamped.
func timestampSize(ctx context.Context, src Source, seqs []uint64) (uint64, error) {
	l, ok := src.(timestampSource)
	if !ok {
		return 0, errors.New("this source of the log holds no timestamps (make a timestamped bundle from the log itself)")
	}
	need := slices.Max(seqs) + 1
	var size uint64
	err := l.Timestamps(ctx, func(n uint64, _ []byte) error {
		if n >= need {
			size = n
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if size == 0 {
		return 0, fmt.Errorf("no timestamped checkpoint covers entry %d yet (the log's TSA has not stamped one since)", need-1)
	}
	return size, nil
}

// addTimestamp puts the log's timestamp of the checkpoint of size, if it
// has one, in the bundle.
func (b *Bundle) addTimestamp(ctx context.Context, src Source, size uint64) error {
	l, ok := src.(timestampSource)
	if !ok {
		return nil
	}
	errFound := errors.New("found")
	err := l.Timestamps(ctx, func(n uint64, tsr []byte) error {
		if n == size {
			b.Timestamp = base64.StdEncoding.EncodeToString(tsr)
			return errFound
		}
		return nil
	})
	if errors.Is(err, errFound) {
		return nil
	}
	return err
}

// checkTimestamp checks b.Timestamp against the bundle's checkpoint ck
// (verified already) and, with roots, against the TSA roots.
func (b *Bundle) checkTimestamp(ck checkpoint.Checkpoint, roots []*x509.Certificate) *TimestampResult {
	if b.Timestamp == "" {
		return nil
	}
	tr := &TimestampResult{Status: "bad"}
	tsr, err := base64.StdEncoding.Strict().DecodeString(b.Timestamp)
	if err != nil {
		tr.Problem = fmt.Sprintf("the timestamp is not base64: %v", err)
		return tr
	}
	msg := checkpoint.Checkpoint{Origin: ck.Origin, Size: ck.Size, Root: ck.Root}.Text()
	var st *tstoken.Stamp
	if len(roots) > 0 {
		st, err = tstoken.Verify(tsr, msg, roots)
	} else {
		st, err = tstoken.Parse(tsr, msg)
	}
	if err != nil {
		tr.Problem = fmt.Sprintf("the timestamp: %v", err)
		return tr
	}
	tr.Time, tr.TSA, tr.Status = st.Time, st.TSA, "bound"
	if len(roots) > 0 {
		tr.Status = "ok"
	}
	return tr
}

// VerifyTSA is Verify, and it checks the bundle's timestamp, if it has
// one, against the CAs of the time-stamping authorities the caller
// trusts: the token must be signed by a TSA certificate that chains to
// one of roots, with the critical timeStamping usage. A bundle without a
// timestamp is judged as by Verify (Result.Timestamp is nil).
func (b *Bundle) VerifyTSA(vkey string, roots []*x509.Certificate) *Result {
	return b.verify(vkey, roots)
}
