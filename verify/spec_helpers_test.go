package verify_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/sealog/sealog/internal/speclog"
	"github.com/sealog/sealog/verify"
)

// specLog builds a log from docs/FORMAT.md (package speclog, not the
// writer) of batches of the given sizes.
func specLog(batches ...int) *speclog.Log {
	l := speclog.New("verify-test", "test.example/audit")
	for _, n := range batches {
		l.Append(n)
	}
	return l
}

// writeSpec writes l to a new directory, in segments of about segEntries
// entries (0: one segment).
func writeSpec(t *testing.T, l *speclog.Log, segEntries int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "log")
	if err := l.Write(dir, speclog.WriteOptions{SegmentEntries: segEntries}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// run verifies dir with a deadline: a verifier that hangs fails the test.
func run(t *testing.T, dir string, opts verify.Options) *verify.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rep, err := verify.Verify(ctx, verify.Dir(dir), opts)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return rep
}

// want checks a report's verdict and first invalid seq (nil: none).
func want(t *testing.T, rep *verify.Report, verdict string, first *uint64) {
	t.Helper()
	if rep.Verdict != verdict || rep.Valid != (verdict == verify.VerdictValid) || !eqPtr(rep.FirstInvalid, first) {
		t.Fatalf("verdict %q valid=%v first_invalid=%v, want %q first_invalid=%v: %s", rep.Verdict, rep.Valid, show(rep.FirstInvalid), verdict, show(first), dump(rep))
	}
	if rep.Tampered != rep.Changed+rep.Missing+rep.Inserted+rep.Reordered {
		t.Fatalf("tampered %d is not the sum of its parts: %s", rep.Tampered, dump(rep))
	}
}
