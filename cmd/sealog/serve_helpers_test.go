package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// sealogBinary builds the sealog command once per test run.
func sealogBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sealog-e2e-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "sealog")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, "go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// served is a running 'sealog serve' process.
type served struct {
	cmd    *exec.Cmd
	url    string
	token  string // the admin token, when this start made it
	vkey   string
	stdout []string
	done   chan error
}

// startServe runs 'sealog serve --data dir --listen 127.0.0.1:0 args...'
// and waits until it listens.
func startServe(t *testing.T, ctx context.Context, dir string, args ...string) *served {
	t.Helper()
	cmd := exec.CommandContext(ctx, sealogBinary(t), append([]string{"serve", "--data", dir, "--listen", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), "SEALOG_KEY=")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &served{cmd: cmd, done: make(chan error, 1)}
	sc := bufio.NewScanner(out)
	lines := make(chan string)
	go func() {
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		s.done <- cmd.Wait()
	}()
	deadline := time.After(time.Minute)
	var prev string
	for s.url == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("sealog serve ended before listening:\n%s\n%s", strings.Join(s.stdout, "\n"), stderr.String())
			}
			s.stdout = append(s.stdout, l)
			switch {
			case strings.HasPrefix(l, "listening on "):
				s.url = strings.TrimPrefix(l, "listening on ")
			case strings.HasPrefix(l, "verifier key: "):
				s.vkey = strings.TrimPrefix(l, "verifier key: ")
			case strings.Contains(prev, "admin token"):
				s.token = strings.TrimSpace(l)
			}
			prev = l
		case <-deadline:
			t.Fatal("sealog serve did not listen within a minute")
		}
	}
	go func() {
		for l := range lines {
			_ = l // later output: "stopped: ..."
		}
	}()
	t.Cleanup(func() { cmd.Process.Kill() })
	return s
}

// stop sends sig and returns the exit code.
func (s *served) stop(t *testing.T, sig os.Signal) int {
	t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				return -int(ws.Signal())
			}
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(time.Minute):
		t.Fatal("sealog serve did not stop within a minute")
		return -1
	}
}

func runBinary(t *testing.T, ctx context.Context, args ...string) (string, error) {
	t.Helper()
	out, err := exec.CommandContext(ctx, sealogBinary(t), args...).CombinedOutput()
	return string(out), err
}

// getJSON GETs url with a bearer token and decodes the JSON answer.
func getJSON(ctx context.Context, url, token string, v any) error {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
