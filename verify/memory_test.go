package verify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/verify"
)

// memChildEnv makes the test binary verify the log it names and exit.
const memChildEnv = "SEALOG_VERIFY_MEM_CHILD"

func init() {
	if spec := os.Getenv(memChildEnv); spec != "" {
		dir, key, _ := strings.Cut(spec, "|")
		rep, err := verify.Verify(context.Background(), verify.Dir(dir), verify.Options{Key: key})
		if err != nil || !rep.Valid {
			fmt.Fprintln(os.Stderr, "verify:", err, rep)
			os.Exit(1)
		}
		fmt.Println(rep.Entries)
		os.Exit(0)
	}
}

// TestVerifyMemoryFlat verifies logs of two sizes in child processes and
// checks their peak RSS: under 64 MiB, and not growing with the log.
// SEALOG_MEM_ENTRIES sets the larger size (default 300,000; 1,000,000 for
// the figure in docs/PERFORMANCE.md).
func TestVerifyMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a few hundred thousand entries")
	}
	big := 300_000
	fmt.Sscan(os.Getenv("SEALOG_MEM_ENTRIES"), &big)
	var rss []int64
	for _, n := range []int{big / 10, big} {
		dir, vkey := writeBenchShapedLog(t, filepath.Join(t.TempDir(), "log"), n)
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), memChildEnv+"="+dir+"|"+vkey)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		maxrss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss * 1024
		t.Logf("verified %s entries: peak RSS %.1f MiB", strings.TrimSpace(string(out)), float64(maxrss)/(1<<20))
		rss = append(rss, maxrss)
	}
	if rss[1] > 64<<20 {
		t.Errorf("peak RSS %d MiB verifying %d entries, over 64 MiB", rss[1]>>20, big)
	}
	if rss[1] > rss[0]+16<<20 {
		t.Errorf("memory grows with the log: %d MiB for %d entries, %d MiB for %d", rss[0]>>20, big/10, rss[1]>>20, big)
	}
}

// writeBenchShapedLog writes a log of n ~300-byte events (the anchors'
// workload) in batches of 1000 in dir, and returns dir and its key.
func writeBenchShapedLog(t testing.TB, dir string, n int) (string, string) {
	skey, vkey, _ := sealog.GenerateKey("bench.example/audit")
	k, _ := sealog.ParseKey(skey)
	l, err := sealog.Open(dir, sealog.Options{Key: k})
	if err != nil {
		t.Fatal(err)
	}
	ua := "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0 " + strings.Repeat("x", 35)
	for i := 0; i < n; i += 1000 {
		evs := make([]sealog.Event, 0, 1000)
		for j := i; j < i+1000 && j < n; j++ {
			p, _ := json.Marshal(map[string]any{"ip": fmt.Sprintf("203.0.%d.%d", j/256%256, j%256), "method": "password",
				"session": fmt.Sprintf("%024x", j*7919), "success": j%7 != 0, "user_agent": ua})
			evs = append(evs, sealog.Event{Kind: "user.login", Actor: "alice@example.com", Payload: json.RawMessage(p)})
		}
		if _, err := l.AppendBatch(context.Background(), evs); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, vkey
}
