package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/client"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/internal/testtsa"
	"github.com/sealog/sealog/layout"
)

// TestServeTimestampsEndToEnd runs 'sealog serve --tsa' against a local
// TSA, appends while the TSA is up, down and up again, and checks with
// 'sealog verify --tsa-roots' what the report says of each range.
func TestServeTimestampsEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	authority, err := testtsa.New(testtsa.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tsaSrv := httptest.NewServer(authority)
	defer tsaSrv.Close()
	dir := t.TempDir()
	roots := filepath.Join(dir, "tsa-roots.pem")
	if err := os.WriteFile(roots, authority.CAPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, ctx, dir, "--tsa", tsaSrv.URL, "--tsa-roots", roots)
	c, err := client.New(client.Config{URL: s.url, Token: s.token, VerifierKey: s.vkey})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	logDir := filepath.Join(dir, "log")
	stamped := func(size int) bool {
		_, err := os.Stat(filepath.Join(logDir, layout.TimestampsDir, layout.TimestampName(uint64(size))))
		return err == nil
	}
	if _, err := c.AppendBatch(ctx, []sealog.Event{{Kind: "a"}, {Kind: "b"}, {Kind: "c"}}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 20*time.Second, "a timestamp at size 3", func() bool { return stamped(3) })

	authority.SetDown(true)
	if _, err := c.AppendBatch(ctx, []sealog.Event{{Kind: "d"}, {Kind: "e"}}); err != nil {
		t.Fatalf("an append while the TSA is down: %v", err)
	}
	metric := func(name string) string {
		req, _ := http.NewRequestWithContext(ctx, "GET", s.url+"/metrics", nil)
		req.Header.Set("Authorization", "Bearer "+s.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		buf := make([]byte, 32<<10)
		for {
			n, err := resp.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		for _, l := range strings.Split(b.String(), "\n") {
			if strings.HasPrefix(l, name+" ") {
				return strings.TrimPrefix(l, name+" ")
			}
		}
		return ""
	}
	testkit.Eventually(t, 20*time.Second, "the failure counted", func() bool { return metric("sealog_timestamp_failures_total") == "1" })
	if g := metric("sealog_timestamp_gap_entries"); g != "2" {
		t.Fatalf("gap while the TSA is down: %q, want 2", g)
	}

	// The verifier, while the last two entries have no timestamp.
	out, err := runBinary(t, ctx, "verify", logDir, "--key", filepath.Join(dir, "signer.key.pub"), "--tsa-roots", roots)
	if err != nil {
		t.Fatalf("verify: %v\n%s", err, out)
	}
	for _, want := range []string{"entries 0 to 2 existed before", "(CN=sealog test TSA)", "entries 3 to 4 have no timestamp yet"} {
		if !strings.Contains(out, want) {
			t.Errorf("the report does not say %q:\n%s", want, out)
		}
	}

	authority.SetDown(false)
	if _, err := c.AppendBatch(ctx, []sealog.Event{{Kind: "f"}}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 20*time.Second, "a timestamp at size 6", func() bool { return stamped(6) })
	if code := s.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("SIGTERM: exit %d", code)
	}
	out, err = runBinary(t, ctx, "verify", logDir, "--key", filepath.Join(dir, "signer.key.pub"), "--tsa-roots", roots, "--json")
	if err != nil {
		t.Fatalf("verify: %v\n%s", err, out)
	}
	var rep struct {
		Valid      bool `json:"valid"`
		Timestamps []struct {
			From, Size uint64
			Status     string
		} `json:"timestamps"`
		TimestampedTo uint64 `json:"timestamped_to"`
	}
	// The report is the first JSON value; verify's hints follow on stderr.
	if err := json.NewDecoder(strings.NewReader(out[strings.Index(out, "{"):])).Decode(&rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !rep.Valid || rep.TimestampedTo != 6 || len(rep.Timestamps) != 2 || rep.Timestamps[1].From != 3 || rep.Timestamps[1].Status != "ok" {
		t.Fatalf("report: %+v", rep)
	}

	// An evidence bundle carries the timestamp of its checkpoint.
	bfile := filepath.Join(dir, "evidence.json")
	if out, err := runBinary(t, ctx, "export", logDir, "--seq", "0,4", "-o", bfile, "--timestamped"); err != nil {
		t.Fatalf("export --timestamped: %v\n%s", err, out)
	}
	out, err = runBinary(t, ctx, "verify-bundle", bfile, "--key", filepath.Join(dir, "signer.key.pub"), "--tsa-roots", roots)
	if err != nil || !strings.Contains(out, "timestamp:   every entry existed before") || !strings.Contains(out, "CN=sealog test TSA") {
		t.Fatalf("verify-bundle --tsa-roots: %v\n%s", err, out)
	}

	// Another CA's roots: no time proven, and the verifier says so.
	other, _ := testtsa.New(testtsa.Options{Name: "other"})
	otherRoots := filepath.Join(dir, "other.pem")
	os.WriteFile(otherRoots, other.CAPEM, 0o644)
	out, err = runBinary(t, ctx, "verify", logDir, "--key", filepath.Join(dir, "signer.key.pub"), "--tsa-roots", otherRoots)
	if err == nil || !strings.Contains(out, "were the right roots given") {
		t.Fatalf("verify with another TSA's roots: %v\n%s", err, out)
	}
	// Bad --tsa-roots input is a usage error naming the file.
	os.WriteFile(otherRoots, []byte("not pem"), 0o644)
	code, _, stderr := runCLI(t, nil, "verify", logDir, "--tsa-roots", otherRoots)
	if code != 2 || !strings.Contains(stderr, "other.pem") {
		t.Fatalf("a bad --tsa-roots: exit %d, %s", code, stderr)
	}
}
