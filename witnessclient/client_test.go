package witnessclient_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/mod/sumdb/note"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/policy"
	"github.com/sealog/sealog/witness"
	"github.com/sealog/sealog/witnessclient"
)

const origin = "example.com/audit"

func testLog(t *testing.T) (*sealog.Log, note.Verifier, string) {
	t.Helper()
	skey, vkey := testkit.Keys("witnessclient", origin)
	key, err := sealog.ParseKey(skey)
	if err != nil {
		t.Fatal(err)
	}
	l, err := sealog.Open(filepath.Join(t.TempDir(), "log"), sealog.Options{Key: key, Clock: testkit.Clock(time.Millisecond), Rand: testkit.Rand("salts")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, key.Verifier(), vkey
}

type testWitness struct {
	cs   *checkpoint.Cosigner
	srv  *httptest.Server
	dir  string
	slow chan struct{} // when non-nil, requests wait for it
}

// startWitness runs a sealog witness following the log on loopback.
func startWitness(t *testing.T, i int, v note.Verifier, dir string) *testWitness {
	t.Helper()
	seed := make([]byte, 32)
	seed[0] = byte(i)
	cs, err := checkpoint.NewCosigner(fmt.Sprintf("w%d.example", i), ed25519.NewKeyFromSeed(seed))
	if err != nil {
		t.Fatal(err)
	}
	if dir == "" {
		dir = t.TempDir()
	}
	st, err := witness.OpenState(dir)
	if err != nil {
		t.Fatal(err)
	}
	w, err := witness.New(witness.Config{Cosigner: cs, State: st, Logs: []witness.Log{{Origin: origin, Verifiers: []note.Verifier{v}}}})
	if err != nil {
		t.Fatal(err)
	}
	tw := &testWitness{cs: cs, dir: dir}
	tw.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if tw.slow != nil {
			select {
			case <-tw.slow:
			case <-r.Context().Done():
				return
			}
		}
		w.ServeHTTP(rw, r)
	}))
	t.Cleanup(func() { tw.srv.Close(); st.Close() })
	return tw
}

func policyFor(t *testing.T, vkey, quorum string, ws ...*testWitness) *policy.Policy {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "log %s\n", vkey)
	var names []string
	for i, w := range ws {
		url := "http://127.0.0.1:1" // nothing listens there
		if w.srv != nil {
			url = w.srv.URL
		}
		fmt.Fprintf(&b, "witness W%d %s %s\n", i+1, w.cs.VerifierKey(), url)
		names = append(names, fmt.Sprintf("W%d", i+1))
	}
	fmt.Fprintf(&b, "group G %s %s\nquorum G\n", quorum, strings.Join(names, " "))
	p, err := policy.Parse([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func appendN(t *testing.T, l *sealog.Log, n int) {
	t.Helper()
	for i := range n {
		if _, err := l.Append(context.Background(), sealog.Event{Kind: "test.event", Payload: map[string]int{"i": i}}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestQuorumCollected(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, v, vkey := testLog(t)
	ws := []*testWitness{startWitness(t, 1, v, ""), startWitness(t, 2, v, ""), startWitness(t, 3, v, "")}
	p := policyFor(t, vkey, "2", ws...)
	state := filepath.Join(t.TempDir(), "witnessed")
	reg := prometheus.NewRegistry()
	c, err := witnessclient.New(witnessclient.Config{Policy: p, Source: l, StateFile: state, Registerer: reg, Logger: testkit.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, l, 3)
	c.Round(ctx)
	appendN(t, l, 4) // the next round proves consistency from 3 to 7
	c.Round(ctx)
	msg, vd := c.Latest()
	if vd == nil || vd.Checkpoint.Size != 7 || len(vd.Vouched) != 3 {
		t.Fatalf("latest verdict %+v", vd)
	}
	if _, err := p.Check(msg, v); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(state); err != nil || string(b) != string(msg) {
		t.Fatalf("state file: %v", err)
	}
	if got := c.Cosigned(7); string(got) != string(msg) {
		t.Fatal("Cosigned(7) is not the latest")
	}
	if got := witnessLag(t, reg, "W1"); got != 0 {
		t.Fatalf("lag of W1 = %v, want 0", got)
	}
	got, err := c.Wait(ctx, 7)
	if err != nil || string(got) != string(msg) {
		t.Fatalf("Wait(7): %v", err)
	}
}

func witnessLag(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "sealog_witness_lag_entries" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if m.GetLabel()[0].GetValue() == name {
				return m.GetGauge().GetValue()
			}
		}
	}
	t.Fatalf("no lag metric for %s", name)
	return 0
}

// TestConflictRetried: a client that does not know what a witness
// cosigned (a restarted log without its state file) gets 409 with the
// witness's size and retries from it.
func TestConflictRetried(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, v, vkey := testLog(t)
	w := startWitness(t, 1, v, "")
	p := policyFor(t, vkey, "1", w)
	first, _ := witnessclient.New(witnessclient.Config{Policy: p, Source: l})
	appendN(t, l, 5)
	first.Round(ctx)
	appendN(t, l, 2)
	second, _ := witnessclient.New(witnessclient.Config{Policy: p, Source: l, Logger: testkit.Logger(t)})
	second.Round(ctx)
	if _, vd := second.Latest(); vd == nil || vd.Checkpoint.Size != 7 {
		t.Fatalf("after a 409: verdict %+v", vd)
	}
}

// TestDownAndSlowWitnesses: appends go on at full speed while one
// witness is down and one hangs; a round waits at most the timeout; the
// quorum is reached by the others, and the lag of the down one grows.
func TestDownAndSlowWitnesses(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	l, v, vkey := testLog(t)
	good := startWitness(t, 1, v, "")
	slow := startWitness(t, 2, v, "")
	slow.slow = make(chan struct{})
	down := startWitness(t, 3, v, "")
	ln, _ := net.Listen("tcp", "127.0.0.1:0") // a port where nothing answers
	down.srv.Close()
	down.srv = httptest.NewUnstartedServer(nil)
	down.srv.URL = "http://" + ln.Addr().String()
	ln.Close()
	p := policyFor(t, vkey, "any", good, slow, down)
	reg := prometheus.NewRegistry()
	c, err := witnessclient.New(witnessclient.Config{Policy: p, Source: l, Timeout: 300 * time.Millisecond, Interval: 50 * time.Millisecond, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { c.Run(rctx); close(done) }()
	start := time.Now()
	for range 50 {
		appendN(t, l, 1)
		c.Notify()
	}
	t.Logf("50 appends with a slow and a down witness: %s", time.Since(start))
	if _, err := c.Wait(ctx, 50); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 10*time.Second, "the down witness's lag", func() bool {
		return witnessLag(t, reg, "W3") == 50
	})
	stop()
	<-done
	close(slow.slow)
}
