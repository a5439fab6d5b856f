package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/sealog/sealog/store/storetest"
)

// TestDurabilitySettings: the writer's connection is in WAL mode with
// synchronous=FULL (a commit fsyncs the WAL before it returns), and the
// file says it is a sealog log.
func TestDurabilitySettings(t *testing.T) {
	meta := storetest.Metadata()
	s, err := Open(filepath.Join(t.TempDir(), "log.db"), Options{Origin: meta.Origin, Key: meta.Key})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var (
		mode       string
		sync, appl int
	)
	for _, q := range []struct {
		sql string
		dst any
	}{
		{"PRAGMA journal_mode", &mode},
		{"PRAGMA synchronous", &sync},
		{"PRAGMA application_id", &appl},
	} {
		if err := s.w.QueryRowContext(t.Context(), q.sql).Scan(q.dst); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	if mode != "wal" || sync != 2 || appl != applicationID {
		t.Fatalf("journal_mode %s, synchronous %d, application_id %#x; want wal, 2 (FULL), %#x", mode, sync, appl, applicationID)
	}
}
