package witness

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/internal/testkit"
)

// TestTorchwoodVerifiesCosignatures: torchwood's own cosignature/v1
// verifier (filippo.io/torchwood, built from the module proxy) accepts
// the cosignatures this witness makes, and refuses one on a changed
// checkpoint.
func TestTorchwoodVerifiesCosignatures(t *testing.T) {
	tw := filepath.Join(testkit.Torchwood(t), "tw-verify")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l := newTreeLog(t, "log")
	srv, cs := testWitness(t, t.TempDir(), l)
	verify := func(msg []byte) (string, error) {
		cmd := exec.CommandContext(ctx, tw, cs.VerifierKey())
		cmd.Stdin = bytes.NewReader(msg)
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	for _, n := range []int{1, 6, 100} {
		old := l.n
		l.grow(n, "t")
		code, _, body := post(t, srv.URL, l.request(old))
		if code != 200 {
			t.Fatalf("size %d: %d %s", l.n, code, body)
		}
		msg := append(l.checkpoint(), body...)
		out, err := verify(msg)
		if err != nil {
			t.Fatalf("torchwood refused the cosignature at size %d: %v: %s", l.n, err, out)
		}
		// Both read the same timestamp: the witness's clock, after the start.
		n, _ := checkpoint.ParseNote(msg)
		v, _ := checkpoint.ParseCosignatureVerifier(cs.VerifierKey())
		at, ok := v.Check(n.Text, n.Sigs[1].Sig)
		if ts, err := strconv.ParseInt(out, 10, 64); err != nil || !ok || ts != at.Unix() || !at.After(testkit.Start) {
			t.Fatalf("torchwood's timestamp %q, ours %v (%v)", out, at, ok)
		}
		changed := bytes.Replace(msg, []byte("\n"+strconv.FormatInt(l.n, 10)+"\n"), []byte("\n"+strconv.FormatInt(l.n+1, 10)+"\n"), 1)
		if out, err := verify(changed); err == nil {
			t.Fatalf("torchwood accepted a cosignature on a changed checkpoint: %s", out)
		}
	}
}
