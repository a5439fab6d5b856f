package auditor_test

import (
	"path/filepath"
	"testing"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/auditor"
	"github.com/sealog/sealog/internal/logfixture"
)

// BenchmarkAudit audits a log of 200,000 entries, in a directory, a
// SQLite database and PostgreSQL, again and again (each audit reads every line):
//
//	go test -run '^$' -bench Audit -benchtime 5x ./auditor/
func BenchmarkAudit(b *testing.B) {
	const n, batch = 200_000, 1000
	var bs [][]sealog.Event
	for i := 0; i < n; i += batch {
		bs = append(bs, logfixture.Events(i, batch, "bench"))
	}
	for _, kind := range []string{"dir", "sqlite", "postgres"} {
		b.Run(kind, func(b *testing.B) {
			name := filepath.Join(b.TempDir(), "log")
			switch kind {
			case "sqlite":
				name = "sqlite://" + name + ".db"
			case "postgres":
				name = pgName(b)
			}
			logfixture.Build(b, name, logfixture.Phase{Seed: "bench", Batches: bs})
			_, vkey := logfixture.Keys()
			a, err := auditor.New(auditor.Config{Logs: []auditor.Log{{Name: name, Key: vkey}}, State: filepath.Join(b.TempDir(), "s.json")})
			if err != nil {
				b.Fatal(err)
			}
			defer a.Close()
			b.ResetTimer()
			for b.Loop() {
				if r := a.RunOnce(b.Context())[0]; !r.Valid || r.Entries != n {
					b.Fatalf("%+v", r)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}
