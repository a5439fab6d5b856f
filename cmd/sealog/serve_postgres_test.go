package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/client"
	"github.com/sealog/sealog/internal/testkit"
	storeopen "github.com/sealog/sealog/store/open"
	"github.com/sealog/sealog/verify"
)

// TestServeThreeOnPostgres: three `sealog serve` processes, one signer key
// and one tokens file, serve one log in one PostgreSQL schema. Clients
// append through all three at once (each client checks every receipt
// against the pinned key before it returns). Then the log has no gap and
// no fork (`sealog verify URL` is VALID, every signature checked), holds
// exactly as many entries as receipts were handed out, and every receipt's
// entry is in it with the receipt's leaf hash and proves against the
// final checkpoint; any server reads entries any other wrote.
func TestServeThreeOnPostgres(t *testing.T) {
	url, _ := testkit.PostgresURL(t, "sealog_test_serve3")
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	dir := t.TempDir()
	first := startServe(t, ctx, filepath.Join(dir, "s0"), "--store", url)
	if first.token == "" || first.vkey == "" {
		t.Fatalf("the first server printed no token or key:\n%v", first.stdout)
	}
	servers := []*served{first}
	for i := 1; i < 3; i++ {
		servers = append(servers, startServe(t, ctx, filepath.Join(dir, fmt.Sprint("s", i)), "--store", url,
			"--key", filepath.Join(dir, "s0", "signer.key"), "--tokens", filepath.Join(dir, "s0", "tokens.json")))
	}
	const perServer, each = 8, 40
	var (
		mu       sync.Mutex
		receipts []sealog.Receipt
		wg       sync.WaitGroup
		errs     = make(chan error, 3*perServer)
	)
	for i, s := range servers {
		for g := range perServer {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := client.New(client.Config{URL: s.url, Token: first.token, VerifierKey: first.vkey, Rand: testkit.Rand(fmt.Sprint("c", i, g))})
				if err != nil {
					errs <- err
					return
				}
				defer c.Close()
				for n := range each {
					var r []sealog.Receipt
					if n%4 == 3 { // a batch now and then
						r, err = c.AppendBatch(ctx, []sealog.Event{{Kind: "batch", Actor: fmt.Sprint("s", i)}, {Kind: "batch", Actor: fmt.Sprint("s", i)}})
					} else {
						var one sealog.Receipt
						one, err = c.Append(ctx, sealog.Event{Kind: "one", Actor: fmt.Sprint("s", i), Payload: map[string]int{"g": g, "n": n}})
						r = []sealog.Receipt{one}
					}
					if err != nil {
						errs <- fmt.Errorf("server %d, client %d, append %d: %w", i, g, n, err)
						return
					}
					mu.Lock()
					receipts = append(receipts, r...)
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
	// Any server reads what another wrote: the last receipt's entry, from
	// each server.
	for i, s := range servers {
		r := receipts[(i*len(receipts))/len(servers)+1]
		var got struct {
			Entry struct {
				Seq      uint64 `json:"seq"`
				LeafHash string `json:"leaf_hash"`
			} `json:"entry"`
		}
		if err := getJSON(ctx, fmt.Sprintf("%s/v1/entries/%d", s.url, r.Seq), first.token, &got); err != nil {
			t.Fatalf("server %d: %v", i, err)
		}
		if got.Entry.Seq != r.Seq || got.Entry.LeafHash != r.LeafHash.String() {
			t.Fatalf("server %d serves entry %d with leaf %s, the receipt has %s", i, got.Entry.Seq, got.Entry.LeafHash, r.LeafHash)
		}
	}
	for i, s := range servers {
		if code := s.stop(t, syscall.SIGTERM); code != 0 {
			t.Fatalf("server %d exited %d on SIGTERM", i, code)
		}
	}

	out, err := runBinary(t, ctx, "verify", url, "--key", first.vkey, "--json", "--all-signatures")
	if err != nil {
		t.Fatalf("sealog verify %s: %v\n%s", url, err, out)
	}
	var rep struct {
		Valid   bool   `json:"valid"`
		Entries uint64 `json:"entries"`
	}
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):lastBrace(out)+1]), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !rep.Valid || rep.Entries != uint64(len(receipts)) {
		t.Fatalf("the log: valid %v with %d entries; %d receipts were handed out\n%s", rep.Valid, rep.Entries, len(receipts), out)
	}

	st, err := storeopen.Open(ctx, url, storeopen.Options{ReadOnly: true, NoCreate: true})
	if err != nil {
		t.Fatal(err)
	}
	l, err := sealog.New(ctx, st, sealog.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	seen := make(map[uint64]bool, len(receipts))
	for _, r := range receipts {
		if seen[r.Seq] {
			t.Fatalf("two receipts name entry %d", r.Seq)
		}
		seen[r.Seq] = true
		en, err := l.Entry(ctx, r.Seq)
		if err != nil {
			t.Fatal(err)
		}
		if en.LeafHash != r.LeafHash {
			t.Fatalf("entry %d has leaf %x, its receipt %x", r.Seq, en.LeafHash, r.LeafHash)
		}
		if err := l.Prove(ctx, &r); err != nil {
			t.Fatal(err)
		}
		if _, err := verify.VerifyReceipt(r, first.vkey); err != nil {
			t.Fatalf("receipt for entry %d, proven against the final checkpoint: %v", r.Seq, err)
		}
	}
}

// lastBrace returns the index of the last '}' in s (the end of a JSON
// report followed by other output), or -1.
func lastBrace(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '}' {
			return i
		}
	}
	return -1
}

// TestServeIdempotencyAcrossServers: over PostgreSQL the Idempotency-Keys
// live in the log's schema, so a retry sent to another server gets the
// first request's receipts, and the log holds the events once; the same
// key with another body is refused by any server.
func TestServeIdempotencyAcrossServers(t *testing.T) {
	url, _ := testkit.PostgresURL(t, "sealog_test_idem")
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	a := startServe(t, ctx, filepath.Join(dir, "a"), "--store", url)
	b := startServe(t, ctx, filepath.Join(dir, "b"), "--store", url,
		"--key", filepath.Join(dir, "a", "signer.key"), "--tokens", filepath.Join(dir, "a", "tokens.json"))
	post := func(s *served, key, body string) (int, []uint64) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, "POST", s.url+"/v1/entries", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+a.token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			Receipts []struct {
				Seq uint64 `json:"seq"`
			} `json:"receipts"`
		}
		json.NewDecoder(resp.Body).Decode(&out)
		var seqs []uint64
		for _, r := range out.Receipts {
			seqs = append(seqs, r.Seq)
		}
		return resp.StatusCode, seqs
	}
	if code, _ := post(a, "warm-up", `{"kind":"first"}`); code != 200 {
		t.Fatalf("first append: %d", code)
	}
	body := `[{"kind":"pay","actor":"alice"},{"kind":"pay","actor":"bob"}]`
	code, first := post(a, "order-42", body)
	if code != 200 || len(first) != 2 {
		t.Fatalf("keyed append on server a: %d, %v", code, first)
	}
	for i, s := range []*served{b, a, b} {
		code, again := post(s, "order-42", body)
		if code != 200 || fmt.Sprint(again) != fmt.Sprint(first) {
			t.Fatalf("retry %d: %d, receipts for %v; want 200 and the first request's %v", i, code, again, first)
		}
	}
	if code, _ := post(b, "order-42", `{"kind":"other"}`); code != 422 {
		t.Fatalf("the key with another body on server b: %d, want 422", code)
	}
	a.stop(t, syscall.SIGTERM)
	b.stop(t, syscall.SIGTERM)
	out, err := runBinary(t, ctx, "verify", url, "--key", a.vkey, "--json")
	if err != nil {
		t.Fatalf("verify: %v\n%s", err, out)
	}
	if !strings.Contains(out, `"entries": 3,`) {
		t.Fatalf("the log should hold 3 entries (the retries appended nothing):\n%s", out)
	}
}
