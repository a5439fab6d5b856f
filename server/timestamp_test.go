package server

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/internal/testtsa"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/tsa"
	"github.com/sealog/sealog/tstoken"
	"github.com/sealog/sealog/verify"
)

// stampAt has authority stamp the log's checkpoint of size and stores the
// token where the log's file store keeps it (docs/FORMAT.md §12), as the
// log's Timestamper would.
func stampAt(t *testing.T, ts *testServer, authority *testtsa.TSA, size uint64) {
	t.Helper()
	ctx := context.Background()
	ck, err := ts.log.CheckpointAt(ctx, size)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(authority)
	defer srv.Close()
	c, err := tsa.New(tsa.Options{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	tsr, err := c.Timestamp(ctx, checkpoint.Checkpoint{Origin: ck.Origin, Size: ck.Size, Root: ck.Root}.Text())
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(ts.dir, "log", layout.TimestampsDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, layout.TimestampName(size)), tsr, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestEntryTimestamp: GET /v1/entries/{seq}?timestamp=true answers the
// entry, its inclusion proof and the token of the smallest stamped tree
// that covers the proof's checkpoint (with that checkpoint and a
// consistency proof when it is a later one): together a receipt that
// verify.VerifyReceiptTimestamp checks offline against the TSA roots.
// While no checkpoint that large is stamped, there is no timestamp.
func TestEntryTimestamp(t *testing.T) {
	authority, err := testtsa.New(testtsa.Options{})
	if err != nil {
		t.Fatal(err)
	}
	roots, err := tsa.ParseRoots(authority.CAPEM)
	if err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t, Config{})
	ts.appendOK(events(3), nil)
	ts.appendOK(events(5), nil)
	ts.appendOK(events(4), nil)
	stampAt(t, ts, authority, 8)
	get := func(path string) EntryResponse {
		t.Helper()
		code, _, body := ts.do(call{method: "GET", path: path, token: ts.tokens[RoleRead]})
		if code != 200 {
			t.Fatalf("GET %s: %d %s", path, code, body)
		}
		var resp EntryResponse
		if err := json.Unmarshal(body, &resp); err != nil {
			t.Fatal(err)
		}
		return resp
	}
	receipt := func(resp EntryResponse) sealog.Receipt {
		return sealog.Receipt{Seq: resp.Entry.Seq, Time: resp.Entry.Time, LeafHash: resp.Inclusion.LeafHash,
			Checkpoint: resp.Inclusion.Checkpoint, Proof: resp.Inclusion.Proof, Timestamp: resp.Timestamp}
	}
	for _, c := range []struct {
		path  string
		size  uint64 // the checkpoint the token covers
		ownCk bool
	}{
		{"/v1/entries/1?timestamp=true&size=3", 8, false},
		{"/v1/entries/5?timestamp=true&size=8", 8, true},
	} {
		resp := get(c.path)
		if resp.Timestamp == nil || (resp.Timestamp.Checkpoint == "") != c.ownCk {
			t.Fatalf("GET %s: timestamp %+v", c.path, resp.Timestamp)
		}
		ck, tc, err := verify.VerifyReceiptTimestamp(receipt(resp), ts.vkey, tstoken.Checker{Roots: roots})
		if err != nil {
			t.Fatalf("GET %s: %v", c.path, err)
		}
		if ck.Size != resp.Inclusion.Size || tc.Signer != verify.SignerTrusted || tc.Time.IsZero() {
			t.Fatalf("GET %s: checkpoint %d, %+v", c.path, ck.Size, tc)
		}
	}
	// Past the last stamped checkpoint: none yet; then the TSA stamps it.
	if resp := get("/v1/entries/9?timestamp=true"); resp.Timestamp != nil || resp.Inclusion == nil || resp.Inclusion.Size != 12 {
		t.Fatalf("an entry past the stamped checkpoints: %+v", resp)
	}
	stampAt(t, ts, authority, 12)
	resp := get("/v1/entries/9?timestamp=true")
	if _, _, err := verify.VerifyReceiptTimestamp(receipt(resp), ts.vkey, tstoken.Checker{Roots: roots}); err != nil {
		t.Fatal(err)
	}
	// Without the parameter, no timestamp.
	if resp := get("/v1/entries/1?proof=true"); resp.Timestamp != nil {
		t.Fatalf("a timestamp without timestamp=true: %+v", resp.Timestamp)
	}
}
