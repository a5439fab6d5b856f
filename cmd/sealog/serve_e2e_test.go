package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/client"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/verify"
)

func TestServeEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	s := startServe(t, ctx, dir)
	if s.token == "" || s.vkey == "" {
		t.Fatalf("the first start printed no admin token or key:\n%s", strings.Join(s.stdout, "\n"))
	}
	for _, f := range []string{"signer.key", "tokens.json"} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v", f, err, fi.Mode())
		}
	}
	state := filepath.Join(t.TempDir(), "client-state.json")
	c, err := client.New(client.Config{URL: s.url, Token: s.token, VerifierKey: s.vkey, StateFile: state})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := c.AppendBatch(ctx, []sealog.Event{{Kind: "e2e.one"}, {Kind: "e2e.two", Actor: "alice"}})
	if err != nil {
		t.Fatal(err)
	}
	// A token added and revoked by the command, while the server runs.
	out, err := runBinary(t, ctx, "token", "add", "reader", "--role", "read", "--data", dir, "--json")
	if err != nil {
		t.Fatalf("token add: %v\n%s", err, out)
	}
	reader := out[strings.Index(out, `"token": "`)+len(`"token": "`):]
	reader = reader[:strings.IndexByte(reader, '"')]
	status := func(tok string) int {
		req, _ := http.NewRequestWithContext(ctx, "GET", s.url+"/checkpoint", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	testkit.Eventually(t, 10*time.Second, "the new token works", func() bool { return status(reader) == 200 })
	if out, err := runBinary(t, ctx, "token", "revoke", "reader", "--data", dir); err != nil {
		t.Fatalf("token revoke: %v\n%s", err, out)
	}
	testkit.Eventually(t, 10*time.Second, "the revoked token is refused", func() bool { return status(reader) == 401 })
	if out, _ := runBinary(t, ctx, "token", "list", "--data", dir); !strings.Contains(out, "reader") || strings.Contains(out, reader) {
		t.Errorf("token list:\n%s", out)
	}
	if code := s.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("SIGTERM: exit %d, want 0", code)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	// A restart prints no new token and keeps the log; a client that
	// kept its trusted checkpoint in a file goes on from it.
	s2 := startServe(t, ctx, dir)
	if s2.token != "" || s2.vkey != s.vkey {
		t.Errorf("a restart made a new token or key")
	}
	c, err = client.New(client.Config{URL: s2.url, Token: s.token, VerifierKey: s.vkey, StateFile: state})
	if err != nil || c.Trusted() == nil {
		t.Fatalf("a client from the state file: %v", err)
	}
	e, err := c.Entry(ctx, rs[1].Seq)
	if err != nil || e.Actor != "alice" {
		t.Fatalf("after a restart: %v %+v", err, e)
	}
	if code := s2.stop(t, syscall.SIGINT); code != 0 {
		t.Fatalf("SIGINT: exit %d, want 0", code)
	}
	if out, err := runBinary(t, ctx, "verify", filepath.Join(dir, "log"), "--key", filepath.Join(dir, "signer.key.pub")); err != nil {
		t.Fatalf("sealog verify: %v\n%s", err, out)
	}
}

// TestServeKillUnderLoad kills 'sealog serve' with SIGKILL while clients
// append, restarts it, and checks that every receipt a client got still
// verifies against a later checkpoint.
func TestServeKillUnderLoad(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	dir := t.TempDir()
	s := startServe(t, ctx, dir)
	token, vkey := s.token, s.vkey
	var receipts []sealog.Receipt
	for round := range 3 {
		var mu sync.Mutex
		var wg sync.WaitGroup
		got := 0
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := client.New(client.Config{URL: s.url, Token: token, VerifierKey: vkey, MaxAttempts: 1})
				if err != nil {
					t.Error(err)
					return
				}
				for i := range 2000 { // bounded: the kill ends it first
					evs := make([]sealog.Event, 1+i%3)
					for j := range evs {
						evs[j] = sealog.Event{Kind: "load", Actor: fmt.Sprintf("g%d", g), Payload: map[string]int{"round": round, "i": i}}
					}
					rs, err := c.AppendBatch(ctx, evs)
					if err != nil {
						return // the server was killed
					}
					mu.Lock()
					receipts = append(receipts, rs...)
					got += len(rs)
					mu.Unlock()
				}
			}()
		}
		testkit.Eventually(t, time.Minute, "receipts under load", func() bool { mu.Lock(); defer mu.Unlock(); return got >= 300 })
		if code := s.stop(t, syscall.SIGKILL); code != -int(syscall.SIGKILL) {
			t.Fatalf("SIGKILL: exit %d", code)
		}
		wg.Wait()
		s = startServe(t, ctx, dir)
	}
	c, err := client.New(client.Config{URL: s.url, Token: token, VerifierKey: vkey})
	if err != nil {
		t.Fatal(err)
	}
	later, _, err := c.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range receipts {
		if _, err := verify.VerifyReceipt(r, vkey); err != nil {
			t.Fatalf("receipt %d: %v", r.Seq, err)
		}
		if r.Seq >= later.Size {
			t.Fatalf("receipt %d is beyond the checkpoint after the crashes (size %d): an acknowledged entry was lost", r.Seq, later.Size)
		}
	}
	checkInLater(t, ctx, s.url, token, receipts, later)
	if code := s.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("SIGTERM: exit %d", code)
	}
	if out, err := runBinary(t, ctx, "verify", filepath.Join(dir, "log"), "--key", filepath.Join(dir, "signer.key.pub")); err != nil {
		t.Fatalf("sealog verify: %v\n%s", err, out)
	}
	t.Logf("%d receipts over 3 kills, all in the later checkpoint of size %d", len(receipts), later.Size)
}

// checkInLater checks that each receipt's leaf is in the later tree, by
// an inclusion proof against the later (signed) checkpoint, and that each
// receipt's checkpoint is a prefix of the later one, by a consistency
// proof.
func checkInLater(t *testing.T, ctx context.Context, url, token string, rs []sealog.Receipt, later checkpoint.Checkpoint) {
	t.Helper()
	cks := map[string]bool{}
	for i, r := range rs {
		if !cks[r.Checkpoint] {
			cks[r.Checkpoint] = true
			old, err := checkpoint.ParseUnverified([]byte(r.Checkpoint)) // its signature: VerifyReceipt
			if err != nil {
				t.Fatal(err)
			}
			var p struct {
				Proof tlog.TreeProof `json:"proof"`
			}
			if err := getJSON(ctx, fmt.Sprintf("%s/v1/proof/consistency?from=%d&to=%d", url, old.Size, later.Size), token, &p); err != nil {
				t.Fatal(err)
			}
			if err := tlog.CheckTree(p.Proof, int64(later.Size), later.Root, int64(old.Size), old.Root); err != nil {
				t.Fatalf("the checkpoint of size %d is not a prefix of the later one: %v", old.Size, err)
			}
		}
		if i%5 != 0 && i != len(rs)-1 {
			continue // a sample of the inclusion proofs keeps the test short
		}
		var p struct {
			LeafHash tlog.Hash        `json:"leaf_hash"`
			Proof    tlog.RecordProof `json:"proof"`
		}
		if err := getJSON(ctx, fmt.Sprintf("%s/v1/proof/inclusion?seq=%d&size=%d", url, r.Seq, later.Size), token, &p); err != nil {
			t.Fatal(err)
		}
		if p.LeafHash != r.LeafHash {
			t.Fatalf("entry %d's leaf changed after the crash", r.Seq)
		}
		if err := tlog.CheckRecord(p.Proof, int64(later.Size), later.Root, int64(r.Seq), r.LeafHash); err != nil {
			t.Fatalf("receipt %d is not in the later checkpoint: %v", r.Seq, err)
		}
	}
}
