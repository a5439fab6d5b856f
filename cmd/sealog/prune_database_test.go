package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPruneDatabase: `sealog prune URL` on a PostgreSQL and a SQLite log
// written by the real command (6 batches of 4); `sealog verify URL`
// reports the pruned range; `sealog export-dir` writes a pruned directory
// that sealog and tools/verify.py accept; a row put back below the prune
// point is named by all of them.
func TestPruneDatabase(t *testing.T) {
	bin := sealogBinary(t)
	for _, kind := range databaseLogs {
		for _, tampered := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/tampered=%v", kind.name, tampered), func(t *testing.T) {
				ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
				defer cancel()
				dir := t.TempDir()
				key := filepath.Join(dir, "k.key")
				url, open := kind.make(t)
				run := binaryRunner(ctx, t, bin)
				if out, code := run("keygen", "-o", key, "--name", "prune.example/log"); code != 0 {
					t.Fatal(out)
				}
				if out, code := run("init", url, "--key", key); code != 0 {
					t.Fatal(out)
				}
				for b := range 6 {
					args := []string{"append", url, "--key", key}
					for i := range 4 {
						args = append(args, fmt.Sprintf(`{"kind":"k","payload":{"n":%d}}`, b*4+i))
					}
					if out, code := run(args...); code != 0 {
						t.Fatal(out)
					}
				}
				db := open()
				line5 := db.line(t, 5)
				db.close()
				out, code := run("prune", url, "--key", key, "--below", "10", "--json")
				var res struct {
					Below  uint64 `json:"below"`
					Record uint64 `json:"record_seq"`
				}
				if code != 0 || json.Unmarshal([]byte(out[strings.Index(out, "{"):strings.LastIndex(out, "}")+1]), &res) != nil || res.Below != 8 || res.Record != 24 {
					t.Fatalf("prune: exit %d, %+v (want below 8, the batch end at or below 10, record 24)\n%s", code, res, out)
				}
				first := int64(-2)
				if tampered {
					db := open()
					db.exec(t, `INSERT INTO entries (seq, time_ns, leaf, nodes, line) SELECT 5, 0, leaf, nodes, ? FROM pruned_hashes WHERE seq = 5`, line5)
					db.close()
					first = 5
				}
				check := func(what, log string) {
					t.Helper()
					out, code := run("verify", log, "--key", key+".pub", "--json")
					checkVerdict(t, what, out, code, first)
					var rep struct {
						Pruned *struct {
							Below  uint64 `json:"below"`
							Record uint64 `json:"record"`
							Status string `json:"status"`
						} `json:"pruned"`
					}
					json.Unmarshal([]byte(out[strings.Index(out, "{"):strings.LastIndex(out, "}")+1]), &rep)
					if rep.Pruned == nil || rep.Pruned.Below != 8 || !tampered && (rep.Pruned.Status != "ok" || rep.Pruned.Record != 24) {
						t.Fatalf("%s: pruned %+v\n%s", what, rep.Pruned, out)
					}
				}
				check("verify "+kind.name, url)
				copyDir := filepath.Join(dir, "copy")
				if out, code := run("export-dir", url, copyDir); code != 0 {
					t.Fatalf("export-dir: exit %d\n%s", code, out)
				}
				check("verify the exported directory", copyDir)
				py := exec.CommandContext(ctx, "python3", "../../tools/verify.py", copyDir, "--key", key+".pub", "--json")
				pyOut, err := py.Output()
				pyCode := 0
				if ee, ok := err.(*exec.ExitError); ok {
					pyCode = ee.ExitCode()
				} else if err != nil {
					t.Fatal(err)
				}
				checkVerdict(t, "tools/verify.py on the exported directory", string(pyOut), pyCode, first)
			})
		}
	}
}
