package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/client"
	"github.com/sealog/sealog/internal/testkit"
)

// TestServeSpoolRestart stops and restarts a real 'sealog serve' while a
// client appends with AppendOrSpool: every event reaches the log once,
// in order.
func TestServeSpoolRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	s := startServe(t, ctx, dir)
	token, vkey := s.token, s.vkey
	addr := strings.TrimPrefix(s.url, "http://")
	c, err := client.New(client.Config{URL: s.url, Token: token, VerifierKey: vkey, MaxAttempts: 1,
		SpoolDir: filepath.Join(t.TempDir(), "spool"), SpoolInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const n = 300
	done := make(chan error, 1)
	spooled := 0
	go func() {
		for i := range n {
			_, sp, err := c.AppendOrSpool(ctx, []sealog.Event{{Kind: "spool.e2e", Payload: map[string]int{"i": i}}})
			if err != nil {
				done <- err
				return
			}
			if sp {
				spooled++
			}
			time.Sleep(time.Millisecond)
		}
		done <- nil
	}()
	for range 2 {
		time.Sleep(50 * time.Millisecond)
		if code := s.stop(t, syscall.SIGTERM); code != 0 {
			t.Fatalf("SIGTERM: exit %d", code)
		}
		time.Sleep(50 * time.Millisecond)
		s = startServe(t, ctx, dir, "--listen", addr)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, time.Minute, "the spool drains", func() bool { return c.Spooled() == 0 })
	var seen []int
	for from := 0; ; {
		var page struct {
			Entries []struct {
				Payload struct{ I int } `json:"payload"`
			} `json:"entries"`
			Next *int `json:"next"`
		}
		if err := getJSON(ctx, fmt.Sprintf("%s/v1/entries?from=%d&limit=1000", s.url, from), token, &page); err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Entries {
			seen = append(seen, e.Payload.I)
		}
		if page.Next == nil {
			break
		}
		from = *page.Next
	}
	if len(seen) != n {
		t.Fatalf("the log has %d events, want %d", len(seen), n)
	}
	for i, v := range seen {
		if v != i {
			t.Fatalf("entry %d holds event %d: lost, duplicated or out of order", i, v)
		}
	}
	t.Logf("%d events, %d of them spooled while the server was down", n, spooled)
}
