package testkit

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TorchwoodVersion is the version of filippo.io/torchwood whose
// litewitness, witnessctl and cosignature verifier the interop tests
// build from the Go module proxy (nothing of it is committed).
const TorchwoodVersion = "v0.9.0"

// Torchwood returns a directory holding litewitness, witnessctl and
// tw-verify (a small program around torchwood's cosignature verifier,
// see torchwoodVerifier), built once per machine into
// $SEALOG_TORCHWOOD_DIR, or a directory under the temporary directory.
// When they cannot be built the test is skipped, and fails under
// CI=true.
func Torchwood(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("SEALOG_TORCHWOOD_DIR")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "sealog-torchwood-"+TorchwoodVersion)
	}
	if err := buildTorchwood(dir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("cannot build torchwood %s, and CI=true: refusing to skip: %v", TorchwoodVersion, err)
		}
		t.Skipf("cannot build torchwood %s: skipping (CI=true makes this a failure): %v", TorchwoodVersion, err)
	}
	return dir
}

// buildTorchwood builds the programs into dir unless they are there,
// under a lock so that test binaries running at once build them once.
func buildTorchwood(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	lock, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := flock(lock, true); err != nil {
		return err
	}
	done := true
	for _, p := range []string{"litewitness", "witnessctl", "tw-verify"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			done = false
		}
	}
	if done {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	work, err := os.MkdirTemp("", "sealog-torchwood-build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	run := func(args ...string) error {
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOBIN="+dir, "GOTOOLCHAIN=local")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go %v: %v\n%s", args, err, out)
		}
		return nil
	}
	if err := run("install", "filippo.io/torchwood/cmd/litewitness@"+TorchwoodVersion, "filippo.io/torchwood/cmd/witnessctl@"+TorchwoodVersion); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(work, "go.mod"), []byte("module twverify\n\ngo 1.24\n\nrequire filippo.io/torchwood "+TorchwoodVersion+"\n"), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(work, "main.go"), []byte(torchwoodVerifier), 0o644); err != nil {
		return err
	}
	if err := run("mod", "tidy"); err != nil {
		return err
	}
	return run("build", "-o", filepath.Join(dir, "tw-verify"), ".")
}

// torchwoodVerifier is tw-verify: "tw-verify VKEY < NOTE" opens the
// signed note with torchwood's cosignature/v1 verifier for VKEY alone
// (the log's own signature is ignored as unknown), and prints the
// cosignature's timestamp; it exits 1 if the cosignature does not verify.
const torchwoodVerifier = `package main

import (
	"fmt"
	"io"
	"os"

	"filippo.io/torchwood"
	"golang.org/x/mod/sumdb/note"
)

func main() {
	v, err := torchwood.NewCosignatureVerifier(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "vkey:", err)
		os.Exit(2)
	}
	msg, _ := io.ReadAll(os.Stdin)
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(1)
	}
	ts, err := torchwood.CosignatureTimestamp(n.Sigs[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, "timestamp:", err)
		os.Exit(1)
	}
	fmt.Println(ts)
}
`
