package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/bundle"
	"github.com/sealog/sealog/client"
	"github.com/sealog/sealog/internal/testkit"
)

// Both a local log and a server's client are bundle sources.
var (
	_ bundle.Source = (*sealog.Log)(nil)
	_ bundle.Source = (*client.Client)(nil)
)

// TestExportURL: `sealog export --url` builds an evidence bundle from a
// running server that verify-bundle accepts offline with the log's key,
// the same bundle as from the log's directory; with another key pinned it
// refuses.
func TestExportURL(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	s := startServe(t, ctx, filepath.Join(dir, "data"))
	body := `[` + strings.Repeat(`{"kind":"a","actor":"u"},`, 9) + `{"kind":"last"}]`
	for range 3 {
		req, _ := http.NewRequestWithContext(ctx, "POST", s.url+"/v1/entries", bytes.NewBufferString(body))
		req.Header.Set("Authorization", "Bearer "+s.token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("POST: %s", resp.Status)
		}
	}
	out := filepath.Join(dir, "b.json")
	if o, err := runBinary(t, ctx, "export", "--url", s.url, "--key", s.vkey, "--token", s.token, "--seq", "2,5-7,29", "-o", out); err != nil {
		t.Fatalf("export --url: %v\n%s", err, o)
	}
	if o, err := runBinary(t, ctx, "verify-bundle", out, "--key", s.vkey, "-q"); err != nil {
		t.Fatalf("verify-bundle: %v\n%s", err, o)
	}
	// The same entries, proven against the checkpoint of size 20 (the end
	// of the second request's batch).
	remote, err := bundle.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if o, err := runBinary(t, ctx, "export", "--url", s.url, "--key", s.vkey, "--token", s.token, "--seq", "3", "--size", "20", "-o", out, "--force"); err != nil {
		t.Fatalf("export --url --size 20: %v\n%s", err, o)
	}
	b, err := bundle.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if r := b.Verify(s.vkey); !r.Valid || r.Checkpoint.Size != 20 {
		t.Fatalf("bundle at size 20: valid %v, size %d", r.Valid, r.Checkpoint.Size)
	}
	_, other := testkit.Keys("other", "other.example/log")
	if o, err := runBinary(t, ctx, "export", "--url", s.url, "--key", other, "--token", s.token, "--seq", "2", "-o", filepath.Join(dir, "x.json")); err == nil {
		t.Fatalf("export --url with another key pinned succeeded:\n%s", o)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.json")); err == nil {
		t.Fatal("a refused export wrote its bundle")
	}
	s.stop(t, os.Interrupt)
	// The log's own directory gives a bundle of the same entries.
	local := filepath.Join(dir, "local.json")
	if o, err := runBinary(t, ctx, "export", filepath.Join(dir, "data", "log"), "--seq", "2,5-7,29", "-o", local); err != nil {
		t.Fatalf("export DIR: %v\n%s", err, o)
	}
	lb, err := bundle.ReadFile(local)
	if err != nil {
		t.Fatal(err)
	}
	if len(lb.Entries) != 5 || len(remote.Entries) != 5 {
		t.Fatalf("the local bundle has %d entries, the server's %d; want 5", len(lb.Entries), len(remote.Entries))
	}
	for i := range lb.Entries {
		if lb.Entries[i].Seq != remote.Entries[i].Seq || lb.Entries[i].Line != remote.Entries[i].Line {
			t.Fatalf("entry %d: the server's bundle holds %q, the directory's %q", lb.Entries[i].Seq, remote.Entries[i].Line, lb.Entries[i].Line)
		}
	}
	if lb.Checkpoint != remote.Checkpoint {
		t.Fatalf("the bundles are proven against different checkpoints:\n%s\n%s", remote.Checkpoint, lb.Checkpoint)
	}
}
