package verify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sealog/sealog"
)

// TestVerifyMemoryFlat verifies logs of two sizes with the sealog command,
// built without the race detector (which would multiply the memory it
// measures), in child processes, and checks their peak RSS: under 64 MiB,
// and not growing with the log. SEALOG_MEM_ENTRIES sets the larger size
// (default 300,000; 1,000,000 for the figure in docs/PERFORMANCE.md).
func TestVerifyMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a few hundred thousand entries")
	}
	big := 300_000
	fmt.Sscan(os.Getenv("SEALOG_MEM_ENTRIES"), &big)
	bin := filepath.Join(t.TempDir(), "sealog")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/sealog/sealog/cmd/sealog").CombinedOutput(); err != nil {
		t.Fatalf("building the sealog command: %v\n%s", err, out)
	}
	var rss []int64
	for _, n := range []int{big / 10, big} {
		dir, vkey := writeBenchShapedLog(t, filepath.Join(t.TempDir(), "log"), n)
		// The peak RSS is GNU time's: the rusage of a child that os/exec
		// starts with vfork counts the parent's (this test's, with the
		// race detector) resident set as the child's, which it takes
		// over at exec; time forks sealog from its own small image.
		rssFile := filepath.Join(t.TempDir(), "rss")
		cmd := exec.CommandContext(ctx, gnuTime(t), "-f", "%M", "-o", rssFile, bin, "verify", dir, "--key", vkey, "--json", "--no-progress")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("sealog verify: %v\n%s", err, out)
		}
		var rep struct {
			Valid   bool   `json:"valid"`
			Entries uint64 `json:"entries"`
		}
		if err := json.Unmarshal(out, &rep); err != nil || !rep.Valid || rep.Entries != uint64(n) {
			t.Fatalf("sealog verify: valid %v, %d entries of %d (%v)", rep.Valid, rep.Entries, n, err)
		}
		b, err := os.ReadFile(rssFile)
		if err != nil {
			t.Fatal(err)
		}
		var kib int64
		if _, err := fmt.Sscan(strings.TrimSpace(string(b)), &kib); err != nil {
			t.Fatalf("GNU time wrote %q: %v", b, err)
		}
		maxrss := kib * 1024
		t.Logf("verified %d entries: peak RSS %.1f MiB", rep.Entries, float64(maxrss)/(1<<20))
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

// gnuTime returns the path of GNU time, which the test needs (with
// CI=true it fails without it; otherwise it skips).
func gnuTime(t *testing.T) string {
	const p = "/usr/bin/time"
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s (GNU time, Debian package time) is missing: %v", p, err)
		}
		t.Skipf("%s (GNU time, Debian package time) is missing: %v", p, err)
	}
	return p
}
