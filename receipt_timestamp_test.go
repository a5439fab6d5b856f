package sealog_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/internal/testtsa"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/tsa"
	"github.com/sealog/sealog/tstoken"
	"github.com/sealog/sealog/verify"
)

// TestReceiptTimestamp: Log.AddTimestamp puts in a receipt the token of
// the smallest timestamped tree that covers it (with that tree's
// checkpoint and a consistency proof when it is not the receipt's own),
// and verify.VerifyReceiptTimestamp, from the receipt alone, reports the
// TSA's time; a receipt whose token, checkpoint or proof was changed, or
// whose TSA the roots do not trust, is refused.
func TestReceiptTimestamp(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	authority, err := testtsa.New(testtsa.Options{})
	if err != nil {
		t.Fatal(err)
	}
	other, err := testtsa.New(testtsa.Options{Name: "another TSA"})
	if err != nil {
		t.Fatal(err)
	}
	dir, vkey := stampedLog(t, authority, []int{3, 5, 4})
	// The TSA stamped neither 3 nor 12: a receipt of checkpoint 3 gets the
	// token of 8, one of checkpoint 12 none yet.
	for _, n := range []uint64{3, 12} {
		if err := os.Remove(filepath.Join(dir, layout.TimestampsDir, layout.TimestampName(n))); err != nil {
			t.Fatal(err)
		}
	}
	l, err := sealog.Open(dir, sealog.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	receipt := func(seq, size uint64) sealog.Receipt {
		t.Helper()
		e, err := l.Entry(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		ck, err := l.CheckpointAt(ctx, size)
		if err != nil {
			t.Fatal(err)
		}
		r := sealog.Receipt{Seq: seq, Time: e.Time, LeafHash: e.LeafHash, Checkpoint: string(ck.Note)}
		if err := l.Prove(ctx, &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	trusted := tstoken.Checker{Roots: roots(t, authority)}

	// The receipt's own checkpoint is stamped.
	own := receipt(5, 8)
	if ok, err := l.AddTimestamp(ctx, &own); !ok || err != nil {
		t.Fatalf("AddTimestamp of a receipt at size 8: %v, %v", ok, err)
	}
	if own.Timestamp.Checkpoint != "" || len(own.Timestamp.Consistency) != 0 {
		t.Fatalf("a receipt whose checkpoint is stamped got another checkpoint: %+v", own.Timestamp)
	}
	// A later checkpoint is: its note and a consistency proof come along.
	early := receipt(1, 3)
	if ok, err := l.AddTimestamp(ctx, &early); !ok || err != nil {
		t.Fatalf("AddTimestamp of a receipt at size 3: %v, %v", ok, err)
	}
	if !strings.HasPrefix(early.Timestamp.Checkpoint, testkitOrigin(t, l)+"\n8\n") || len(early.Timestamp.Consistency) == 0 {
		t.Fatalf("a receipt at size 3 got %q, proof of %d hashes; want the checkpoint of 8", early.Timestamp.Checkpoint, len(early.Timestamp.Consistency))
	}
	for name, r := range map[string]sealog.Receipt{"own": own, "early": early} {
		// As a client keeps it: JSON, the token base64.
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var back sealog.Receipt
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		c, tc, err := verify.VerifyReceiptTimestamp(back, vkey, trusted)
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, b)
		}
		if c.Size != map[string]uint64{"own": 8, "early": 3}[name] || tc.Signer != verify.SignerTrusted || tc.TSA != "CN=sealog test TSA" || tc.Time.IsZero() {
			t.Fatalf("%s: checkpoint of %d, %+v", name, c.Size, tc)
		}
		// Without roots: bound to the entry, its signer unchecked.
		if _, tc, err := verify.VerifyReceiptTimestamp(back, vkey, tstoken.Checker{}); err != nil || tc.Signer != verify.SignerUnchecked {
			t.Fatalf("%s without roots: %+v, %v", name, tc, err)
		}
		// VerifyReceipt alone still checks the receipt.
		if _, err := verify.VerifyReceipt(back, vkey); err != nil {
			t.Fatalf("%s: VerifyReceipt: %v", name, err)
		}
	}

	// None yet past the last stamped checkpoint.
	last := receipt(10, 12)
	if ok, err := l.AddTimestamp(ctx, &last); ok || err != nil || last.Timestamp != nil {
		t.Fatalf("AddTimestamp with no token at 12 or later: %v, %v, %+v", ok, err, last.Timestamp)
	}
	if _, _, err := verify.VerifyReceiptTimestamp(last, vkey, trusted); err == nil || !strings.Contains(err.Error(), "carries no timestamp") {
		t.Fatalf("a receipt without a timestamp: %v", err)
	}

	ck12, err := l.CheckpointAt(ctx, 12)
	if err != nil {
		t.Fatal(err)
	}
	tsrAt := func(size uint64) []byte {
		b, err := os.ReadFile(filepath.Join(dir, layout.TimestampsDir, layout.TimestampName(size)))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, c := range []struct {
		name   string
		change func(r *sealog.Receipt)
		roots  tstoken.Checker
		want   string
	}{
		{"another TSA's roots", func(*sealog.Receipt) {}, tstoken.Checker{Roots: roots(t, other)}, "receipt for entry 1: the timestamp"},
		{"a token for another checkpoint", func(r *sealog.Receipt) { r.Timestamp.TSR = tsrAt(8); r.Timestamp.Checkpoint = string(ck12.Note) }, trusted, "consistency proof"},
		{"a token over another message", func(r *sealog.Receipt) {
			r.Timestamp.TSR = stampMessage(t, authority, []byte("not a checkpoint"))
		}, trusted, "not over the checkpoint of size 8"},
		{"a proof hash changed", func(r *sealog.Receipt) { r.Timestamp.Consistency[0][0] ^= 1 }, trusted, "does not verify"},
		{"the checkpoint dropped", func(r *sealog.Receipt) { r.Timestamp.Checkpoint = "" }, trusted, "no checkpoint to prove it against"},
		// Its signature is not what the token rests on: a forged size is
		// refused because the proof does not reach it.
		{"a forged checkpoint", func(r *sealog.Receipt) {
			r.Timestamp.Checkpoint = strings.Replace(r.Timestamp.Checkpoint, "\n8\n", "\n9\n", 1)
		}, trusted, "to the timestamp's (size 9) does not verify"},
		{"not a checkpoint", func(r *sealog.Receipt) { r.Timestamp.Checkpoint = "junk" }, trusted, "the timestamp's checkpoint"},
		{"garbage token", func(r *sealog.Receipt) { r.Timestamp.TSR = []byte("junk") }, trusted, "the timestamp"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, _ := json.Marshal(early)
			var r sealog.Receipt
			if err := json.Unmarshal(b, &r); err != nil {
				t.Fatal(err)
			}
			c.change(&r)
			_, _, err := verify.VerifyReceiptTimestamp(r, vkey, c.roots)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("%v, want an error saying %q", err, c.want)
			}
		})
	}
}

// testkitOrigin returns l's origin.
func testkitOrigin(t *testing.T, l *sealog.Log) string {
	t.Helper()
	ck, err := l.Checkpoint(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ck.Origin
}

// FuzzVerifyReceiptTimestamp: whatever a receipt's JSON says,
// VerifyReceiptTimestamp never panics, and one it accepts is true of the
// genuine log: its leaf is the entry's and its checkpoint the log's tree.
func FuzzVerifyReceiptTimestamp(f *testing.F) {
	authority, err := testtsa.New(testtsa.Options{})
	if err != nil {
		f.Fatal(err)
	}
	dir, vkey := stampedLog(f, authority, []int{3, 5})
	if err := os.Remove(filepath.Join(dir, layout.TimestampsDir, layout.TimestampName(3))); err != nil {
		f.Fatal(err)
	}
	l, err := sealog.Open(dir, sealog.Options{ReadOnly: true})
	if err != nil {
		f.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	for _, c := range []struct{ seq, size uint64 }{{1, 3}, {6, 8}} {
		e, _ := l.Entry(ctx, c.seq)
		ck, _ := l.CheckpointAt(ctx, c.size)
		r := sealog.Receipt{Seq: c.seq, Time: e.Time, LeafHash: e.LeafHash, Checkpoint: string(ck.Note)}
		if err := l.Prove(ctx, &r); err != nil {
			f.Fatal(err)
		}
		if ok, err := l.AddTimestamp(ctx, &r); !ok || err != nil {
			f.Fatal(ok, err)
		}
		b, _ := json.Marshal(r)
		f.Add(b)
	}
	checker := tstoken.Checker{Roots: roots(f, authority)}
	f.Fuzz(func(t *testing.T, b []byte) {
		var r sealog.Receipt
		if json.Unmarshal(b, &r) != nil {
			return
		}
		c, tc, err := verify.VerifyReceiptTimestamp(r, vkey, checker)
		if err != nil {
			return
		}
		e, err := l.Entry(ctx, r.Seq)
		if err != nil || e.LeafHash != r.LeafHash {
			t.Fatalf("accepted a receipt for entry %d with leaf %s: the log's is %s (%v)", r.Seq, r.LeafHash, e.LeafHash, err)
		}
		if root, err := l.TreeHash(ctx, c.Size); err != nil || root != c.Root {
			t.Fatalf("accepted a receipt in a tree of %d with root %s: the log's is %s (%v)", c.Size, c.Root, root, err)
		}
		if tc.Signer != verify.SignerTrusted || tc.Time.IsZero() {
			t.Fatalf("accepted a timestamp %+v", tc)
		}
	})
}

// TestReceiptTimestampAcrossRotation: a receipt from before a key
// rotation whose covering token was made after it (the TSA stamped no
// checkpoint of the old key at or past the receipt's size) verifies with
// the receipt's key alone: the token is over the later tree's text, the
// consistency proof ties that tree to the receipt's, and who signed the
// later checkpoint adds nothing to "existed before the token's time". A
// token over a later tree the proof does not reach is still refused.
func TestReceiptTimestampAcrossRotation(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	authority, err := testtsa.New(testtsa.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(authority)
	defer srv.Close()
	stamper, err := tsa.New(tsa.Options{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	skey0, vkey0 := testkit.Keys("rotation receipts 0", testkit.Origin)
	skey1, _ := testkit.Keys("rotation receipts 1", testkit.Origin)
	k0, err := sealog.ParseKey(skey0)
	if err != nil {
		t.Fatal(err)
	}
	k1, err := sealog.ParseKey(skey1)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "log")
	l, err := sealog.Open(dir, sealog.Options{Key: k0, Logger: testkit.Logger(t), Clock: testkit.Clock(time.Millisecond),
		Rand: testkit.Rand(t.Name()), Timestamper: stamper})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	stamped := func(want uint64) {
		t.Helper()
		testkit.Eventually(t, 10*time.Second, "a timestamp of the newest checkpoint", func() bool {
			return l.TimestampStatus().Size == want
		})
	}
	evs := []sealog.Event{{Kind: "doc.read", Actor: "alice"}, {Kind: "doc.read", Actor: "bob"}, {Kind: "doc.read", Actor: "carol"}}
	first, err := l.AppendBatch(ctx, evs)
	if err != nil {
		t.Fatal(err)
	}
	stamped(3)
	if _, err := l.Rotate(ctx, k1); err != nil {
		t.Fatal(err)
	}
	stamped(4)
	if _, err := l.AppendBatch(ctx, evs); err != nil {
		t.Fatal(err)
	}
	stamped(7)
	// Only the token of 7, a checkpoint of the new key, covers entry 1.
	for _, n := range []uint64{3, 4} {
		if err := os.Remove(filepath.Join(dir, layout.TimestampsDir, layout.TimestampName(n))); err != nil {
			t.Fatal(err)
		}
	}
	r := first[1]
	if err := l.Prove(ctx, &r); err != nil {
		t.Fatal(err)
	}
	if ok, err := l.AddTimestamp(ctx, &r); !ok || err != nil {
		t.Fatalf("AddTimestamp: %v, %v", ok, err)
	}
	if !strings.HasPrefix(r.Timestamp.Checkpoint, testkit.Origin+"\n7\n") {
		t.Fatalf("the receipt's timestamp covers %q, want the checkpoint of 7", r.Timestamp.Checkpoint)
	}
	trusted := tstoken.Checker{Roots: roots(t, authority)}
	c, tc, err := verify.VerifyReceiptTimestamp(r, vkey0, trusted)
	if err != nil {
		t.Fatalf("a receipt of the old key with a token made after the rotation: %v", err)
	}
	if c.Size != 3 || tc.Signer != verify.SignerTrusted || tc.Time.IsZero() {
		t.Fatalf("checkpoint of %d, %+v", c.Size, tc)
	}
	// The later checkpoint's size or root changed: the proof does not reach it.
	for _, change := range []func(s string) string{
		func(s string) string { return strings.Replace(s, "\n7\n", "\n6\n", 1) },
		func(s string) string {
			lines := strings.SplitN(s, "\n", 4)
			root := []byte(lines[2])
			root[0] ^= 'A' ^ 'B'
			lines[2] = string(root)
			return strings.Join(lines, "\n")
		},
	} {
		bad := r
		ts := *r.Timestamp
		ts.Checkpoint = change(ts.Checkpoint)
		bad.Timestamp = &ts
		if _, _, err := verify.VerifyReceiptTimestamp(bad, vkey0, trusted); err == nil {
			t.Fatalf("a changed later checkpoint verified:\n%s", ts.Checkpoint)
		}
	}
}
