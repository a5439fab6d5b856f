package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/witness"
)

// proc is a running sealog process that printed "listening on URL".
type proc struct {
	cmd  *exec.Cmd
	url  string
	out  []string
	done chan error
}

// startListening runs sealog with args and waits for its "listening on"
// line.
func startListening(t *testing.T, ctx context.Context, args ...string) *proc {
	t.Helper()
	cmd := exec.CommandContext(ctx, sealogBinary(t), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, done: make(chan error, 1)}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		p.done <- cmd.Wait()
	}()
	deadline := time.After(time.Minute)
	for p.url == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("sealog %s ended before listening:\n%s\n%s", args[0], strings.Join(p.out, "\n"), stderr.String())
			}
			p.out = append(p.out, l)
			if u, ok := strings.CutPrefix(l, "listening on "); ok {
				p.url = u
			}
		case <-deadline:
			t.Fatalf("sealog %s did not listen within a minute", args[0])
		}
	}
	go func() {
		for range lines {
		}
	}()
	t.Cleanup(func() { cmd.Process.Kill() })
	return p
}

func (p *proc) kill(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(time.Minute):
		t.Fatal("not dead within a minute")
	}
}

// witnessSetup makes a witness key and configuration following the log
// key in dir.
func witnessSetup(t *testing.T, ctx context.Context, dir string) (conf string, logKey *sealog.Key) {
	t.Helper()
	conf = filepath.Join(dir, "witness.conf")
	for _, args := range [][]string{
		{"witness", "keygen", "--name", "witness.example/e2e", "-o", filepath.Join(dir, "witness.key"), "--config", conf},
		{"keygen", "-o", filepath.Join(dir, "log.key"), "--name", "example.com/e2e"},
		{"witness", "add-log", "--config", conf, filepath.Join(dir, "log.key.pub")},
	} {
		if out, err := runBinary(t, ctx, args...); err != nil {
			t.Fatalf("sealog %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	k, err := sealog.LoadKey(filepath.Join(dir, "log.key"))
	if err != nil {
		t.Fatal(err)
	}
	return conf, k
}

func appendEvents(t *testing.T, l *sealog.Log, n int, kind string) {
	t.Helper()
	for i := range n {
		if _, err := l.Append(context.Background(), sealog.Event{Kind: kind, Payload: map[string]int{"i": i}}); err != nil {
			t.Fatal(err)
		}
	}
}

// addRequest is the add-checkpoint request for l's head, from size old.
func addRequest(t *testing.T, l *sealog.Log, old uint64) []byte {
	t.Helper()
	ctx := context.Background()
	h, err := l.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r := &witness.Request{Old: old, Checkpoint: h.Checkpoint.Note}
	if old > 0 && old < h.Size {
		if r.Proof, err = l.ConsistencyProof(ctx, old, h.Size); err != nil {
			t.Fatal(err)
		}
	}
	return r.Marshal()
}

func postAdd(t *testing.T, url string, body []byte) (int, string) {
	t.Helper()
	resp, err := http.Post(url+"/add-checkpoint", "text/plain", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestWitnessRefusesRollbackAcrossKill runs the real witness: it cosigns
// a growing log, refuses a rolled-back and a forked checkpoint, and keeps
// its state across SIGKILL; concurrent requests from two forks never both
// get a cosignature.
func TestWitnessRefusesRollbackAcrossKill(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	conf, key := witnessSetup(t, ctx, dir)
	state := filepath.Join(dir, "state")
	start := func() *proc {
		return startListening(t, ctx, "witness", "--config", conf, "--state", state, "--listen", "127.0.0.1:0")
	}
	w := start()

	// The log, and a fork of it after 3 entries (same key, another tail).
	logDir := filepath.Join(dir, "log")
	l, err := sealog.Open(logDir, sealog.Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	appendEvents(t, l, 3, "common")
	l.Close()
	forkDir := filepath.Join(dir, "fork")
	if err := copyTree(logDir, forkDir); err != nil {
		t.Fatal(err)
	}
	l, _ = sealog.Open(logDir, sealog.Options{Key: key})
	defer l.Close()
	fork, err := sealog.Open(forkDir, sealog.Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	defer fork.Close()
	size3 := addRequest(t, l, 0)
	if code, body := postAdd(t, w.url, size3); code != 200 || !strings.HasPrefix(body, "— witness.example/e2e ") {
		t.Fatalf("first checkpoint: %d %q", code, body)
	}
	appendEvents(t, l, 3, "honest")
	if code, body := postAdd(t, w.url, addRequest(t, l, 3)); code != 200 {
		t.Fatalf("size 6: %d %q", code, body)
	}

	// Killed right after answering: the state is on disk.
	w.kill(t)
	w = start()
	appendEvents(t, fork, 5, "forged")
	cases := []struct {
		name string
		body []byte
		code int
		want string
	}{
		{"rolled back to size 3", size3, 409, "6\n"},
		{"fork from the common prefix", addRequest(t, fork, 3), 409, "6\n"},
		{"fork claiming the witness's size", bytes.Replace(addRequest(t, fork, 3), []byte("old 3\n"), []byte("old 6\n"), 1), 422, ""},
		{"honest log after the restart", addRequest(t, l, 6), 200, "— witness.example/e2e "},
	}
	for _, c := range cases {
		code, body := postAdd(t, w.url, c.body)
		if code != c.code || !strings.HasPrefix(body, c.want) {
			t.Fatalf("%s: %d %q, want %d %q", c.name, code, body, c.code, c.want)
		}
	}

	// Two forks grow from size 6 and race: exactly one request wins.
	fork2Dir := filepath.Join(dir, "fork2")
	l.Close()
	if err := copyTree(logDir, fork2Dir); err != nil {
		t.Fatal(err)
	}
	l, _ = sealog.Open(logDir, sealog.Options{Key: key})
	f2, err := sealog.Open(fork2Dir, sealog.Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	defer f2.Close()
	var reqs [][]byte
	for range 6 {
		appendEvents(t, l, 1, "a")
		appendEvents(t, f2, 1, "b")
		reqs = append(reqs, addRequest(t, l, 6), addRequest(t, f2, 6))
	}
	var mu sync.Mutex
	won := 0
	var wg sync.WaitGroup
	for _, r := range reqs {
		wg.Go(func() {
			if code, _ := postAdd(t, w.url, r); code == 200 {
				mu.Lock()
				won++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if won != 1 {
		t.Fatalf("%d concurrent requests from size 6 were cosigned, want exactly 1", won)
	}
	w.kill(t)
	// The persisted state is the winner's: a request from 6 is a conflict.
	w = start()
	if code, body := postAdd(t, w.url, reqs[0]); code != 409 || body == "6\n" {
		t.Fatalf("after the race and a kill: %d %q", code, body)
	}
}

// TestWitnessKilledUnderLoad kills the witness with SIGKILL while a log
// submits checkpoint after checkpoint: after each restart the witness's
// state is at least the last checkpoint it answered 200 for (it persisted
// before answering), and it goes on from there.
func TestWitnessKilledUnderLoad(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	conf, key := witnessSetup(t, ctx, dir)
	state := filepath.Join(dir, "state")
	l, err := sealog.Open(filepath.Join(dir, "log"), sealog.Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	h := sha256.Sum256([]byte("example.com/e2e"))
	var acked uint64 // the size of the last 200
	for round := range 4 {
		w := startListening(t, ctx, "witness", "--config", conf, "--state", state, "--listen", "127.0.0.1:0")
		if acked > 0 {
			resp, err := http.Get(fmt.Sprintf("%s/%x/checkpoint", w.url, h))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			ck, err := checkpoint.ParseUnverified(b)
			if resp.StatusCode != 200 || err != nil || ck.Size < acked {
				t.Fatalf("round %d: after SIGKILL the witness has %d (%v), but it had answered 200 for %d", round, ck.Size, err, acked)
			}
			acked = ck.Size // a 200 lost with the kill is still cosigned
		}
		// Kill it from the side, at a moment that lands inside some
		// request: the one in flight has an unknown outcome.
		go func() {
			time.Sleep(time.Duration(50+round*40) * time.Millisecond)
			w.cmd.Process.Signal(syscall.SIGKILL)
		}()
		for {
			appendEvents(t, l, 1, "load")
			resp, err := http.Post(w.url+"/add-checkpoint", "text/plain", bytes.NewReader(addRequest(t, l, acked)))
			if err != nil {
				break // killed
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("round %d: %d %q", round, resp.StatusCode, b)
			}
			h, _ := l.Head(ctx)
			acked = h.Size
		}
		<-w.done
	}
	if acked == 0 {
		t.Fatal("no checkpoint was cosigned")
	}
	t.Logf("4 SIGKILLs under load; the witness's state kept up with every 200, up to size %d", acked)
}
