package auditor_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog"

	"github.com/sealog/sealog/auditor"
	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/internal/logfixture"
	"github.com/sealog/sealog/internal/testkit"
)

// receiver is a webhook receiver that checks every signature.
type receiver struct {
	*httptest.Server
	secret []byte
	mu     sync.Mutex
	got    []auditor.Payload
	bad    int
}

func newReceiver(t *testing.T, secret []byte) *receiver {
	r := &receiver{secret: secret}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if !auditor.CheckSignature(r.secret, body, req.Header.Get(auditor.SignatureHeader)) {
			r.bad++
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var p auditor.Payload
		if err := json.Unmarshal(body, &p); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		r.got = append(r.got, p)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) payloads() []auditor.Payload {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]auditor.Payload(nil), r.got...)
}

// The logs under test: the first audit sees phase one (10 entries in
// two batches), the second phases one and two (25 entries).
var (
	one = logfixture.Phase{Seed: "one", Batches: [][]sealog.Event{logfixture.Events(0, 4, "a"), logfixture.Events(4, 6, "a")}}
	two = logfixture.Phase{Seed: "two", Batches: [][]sealog.Event{logfixture.Events(10, 15, "a")}}
	// forked rewrites the log from entry 10 on, with more entries.
	forked = logfixture.Phase{Seed: "fork", Batches: [][]sealog.Event{logfixture.Events(10, 20, "b")}}
)

// kinds are the kinds of log the library tests run against.
var kinds = []struct {
	name string
	// make returns the name of a log to build, fresh.
	make func(t *testing.T, n int) string
	// replace puts the log built at src in the place of dst.
	replace func(t testing.TB, dst, src string)
	// edit replaces old by new in entry seq's line.
	edit func(t testing.TB, name string, seq uint64, old, new string)
}{
	{"dir",
		func(t *testing.T, n int) string { return filepath.Join(t.TempDir(), fmt.Sprintf("log%d", n)) },
		logfixture.ReplaceDir,
		logfixture.EditDirLine},
	{"sqlite",
		func(t *testing.T, n int) string {
			return "sqlite://" + filepath.Join(t.TempDir(), fmt.Sprintf("log%d.db", n))
		},
		func(t testing.TB, dst, src string) {
			logfixture.ReplaceSQLite(t, strings.TrimPrefix(dst, "sqlite://"), strings.TrimPrefix(src, "sqlite://"))
		},
		logfixture.EditSQLiteLine},
}

// TestTamperBetweenAudits audits a log, lets it grow, audits it again,
// tampers with it, and checks that the next audit fails with the right
// verdict, the metric flips to 0, the webhook receives a signed payload,
// and the trusted checkpoint stays where it was.
func TestTamperBetweenAudits(t *testing.T) {
	for _, k := range kinds {
		for _, c := range []struct {
			name    string
			tamper  func(t *testing.T, name string, rebuild func(...logfixture.Phase) string)
			verdict string
			first   *uint64
		}{
			{"edit-old-entry", func(t *testing.T, name string, _ func(...logfixture.Phase) string) {
				k.edit(t, name, 3, `"user-3"`, `"user-X"`)
			}, auditor.VerdictTampered, ptr(3)},
			{"edit-new-entry", func(t *testing.T, name string, _ func(...logfixture.Phase) string) {
				k.edit(t, name, 20, `"user-20"`, `"user-Y"`)
			}, auditor.VerdictTampered, ptr(20)},
			{"cut-and-resign", func(t *testing.T, name string, rebuild func(...logfixture.Phase) string) {
				k.replace(t, name, rebuild(one))
			}, auditor.VerdictTruncated, ptr(10)},
			{"fork", func(t *testing.T, name string, rebuild func(...logfixture.Phase) string) {
				k.replace(t, name, rebuild(one, forked))
			}, auditor.VerdictForked, nil},
		} {
			t.Run(k.name+"/"+c.name, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
				defer cancel()
				_, vkey := logfixture.Keys()
				name := k.make(t, 0)
				logfixture.Build(t, name, one)
				secret := []byte("webhook secret of the test")
				rcv := newReceiver(t, secret)
				reg := prometheus.NewRegistry()
				a, err := auditor.New(auditor.Config{
					Logs:       []auditor.Log{{Name: name, Key: vkey}},
					State:      filepath.Join(t.TempDir(), "state.json"),
					Webhook:    &auditor.Webhook{URL: rcv.URL, Secret: secret, Backoff: time.Millisecond},
					Registerer: reg,
					Logger:     testkit.Logger(t),
				})
				if err != nil {
					t.Fatal(err)
				}
				defer a.Close()
				r := a.RunOnce(ctx)[0]
				if !r.Valid || r.Size != 10 || r.Entries != 10 || r.Old != nil {
					t.Fatalf("first audit: %+v", r)
				}
				logfixture.Build(t, name, two)
				r = a.RunOnce(ctx)[0]
				if !r.Valid || r.Size != 25 || r.Old == nil {
					t.Fatalf("second audit: %+v", r)
				}
				if got := metric(t, reg, "sealog_audit_last_result", r.Log); got != 1 {
					t.Fatalf("sealog_audit_last_result = %v after a valid audit", got)
				}
				trusted := r.New
				n := 0
				c.tamper(t, name, func(ph ...logfixture.Phase) string {
					n++
					other := k.make(t, n)
					logfixture.Build(t, other, ph...)
					return other
				})
				// (SQLite's readers of a WAL database make its -shm and -wal
				// files if they are missing: the database file is the log.)
				where := strings.TrimPrefix(name, "sqlite://")
				before := logfixture.TreeHash(t, where)
				r = a.RunOnce(ctx)[0]
				if logfixture.TreeHash(t, where) != before {
					t.Fatal("the audit wrote to the log")
				}
				if r.Valid || r.Verdict != c.verdict {
					t.Fatalf("after tampering: verdict %q (%s), want %q", r.Verdict, r.Reason, c.verdict)
				}
				if (r.FirstInvalid == nil) != (c.first == nil) || c.first != nil && *r.FirstInvalid != *c.first {
					t.Fatalf("first invalid %v, want %v (%s)", deref(r.FirstInvalid), deref(c.first), r.Reason)
				}
				if string(r.Old) != string(trusted) || r.Size != 25 {
					t.Fatalf("the trusted checkpoint moved: size %d", r.Size)
				}
				if got := metric(t, reg, "sealog_audit_last_result", r.Log); got != 0 {
					t.Fatalf("sealog_audit_last_result = %v after a failed audit", got)
				}
				ps := rcv.payloads()
				if len(ps) != 1 || rcv.bad != 0 {
					t.Fatalf("webhook got %d payloads (%d badly signed), want 1", len(ps), rcv.bad)
				}
				p := ps[0]
				if p.Verdict != c.verdict || p.Log != r.Log || p.TrustedCheckpoint == nil || *p.TrustedCheckpoint != string(trusted) {
					t.Fatalf("payload %+v", p)
				}
				if c.verdict == auditor.VerdictForked {
					checkForkEvidence(t, p)
				}
				// The failure is not forgotten: the next audit fails too.
				if r = a.RunOnce(ctx)[0]; r.Verdict != c.verdict {
					t.Fatalf("audit after the failed one: %q", r.Verdict)
				}
			})
		}
	}
}

// checkForkEvidence checks a fork's payload: two checkpoints signed by
// the key, the new one at least as large, and the log's consistency
// proof between them, which does not verify.
func checkForkEvidence(t *testing.T, p auditor.Payload) {
	t.Helper()
	_, vkey := logfixture.Keys()
	v, _ := note.NewVerifier(vkey)
	if p.Checkpoint == nil {
		t.Fatal("fork payload without the new checkpoint")
	}
	old, _, err1 := checkpoint.Verify([]byte(*p.TrustedCheckpoint), v, v.Name())
	nw, _, err2 := checkpoint.Verify([]byte(*p.Checkpoint), v, v.Name())
	if err1 != nil || err2 != nil || nw.Size < old.Size {
		t.Fatalf("fork checkpoints: %v %v, sizes %d %d", err1, err2, old.Size, nw.Size)
	}
	if len(p.ConsistencyProof) == 0 || p.ConsistencyProofError == "" {
		t.Fatalf("fork payload without the log's consistency proof: %+v", p)
	}
	if err := tlog.CheckTree(p.ConsistencyProof, int64(nw.Size), nw.Root, int64(old.Size), old.Root); err == nil {
		t.Fatal("the fork's consistency proof verifies")
	}
}

// metric returns the value of the metric name with label log="log".
func metric(t *testing.T, reg *prometheus.Registry, name, log string) float64 {
	t.Helper()
	return metricWith(t, reg, name, map[string]string{"log": log})
}

// metricWith returns the value of the first metric name whose labels
// include all of labels.
func metricWith(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			n := 0
			for _, lp := range m.GetLabel() {
				if v, ok := labels[lp.GetName()]; ok && v == lp.GetValue() {
					n++
				}
			}
			if n != len(labels) {
				continue
			}
			switch {
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			case m.Counter != nil:
				return m.Counter.GetValue()
			}
		}
	}
	t.Fatalf("no metric %s%v", name, labels)
	return 0
}

func ptr(v uint64) *uint64 { return &v }

func deref(p *uint64) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestFirstAudits covers first audits: an empty log is valid and trusts
// nothing yet, then its first entries; a log checked with another key is
// wrong-key; a missing log is unreadable; each failure flips the metric.
func TestFirstAudits(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	_, vkey := logfixture.Keys()
	_, other := logfixture.OtherKeys()
	empty := filepath.Join(t.TempDir(), "empty")
	logfixture.Build(t, empty, logfixture.Phase{Seed: "none"})
	full := filepath.Join(t.TempDir(), "full")
	logfixture.Build(t, full, one)
	missing := filepath.Join(t.TempDir(), "missing")
	reg := prometheus.NewRegistry()
	a, err := auditor.New(auditor.Config{
		Logs:       []auditor.Log{{Name: empty, Key: vkey}, {Name: full, Key: other}, {Name: missing, Key: vkey}},
		State:      filepath.Join(t.TempDir(), "state") + "/",
		Registerer: reg,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	rs := a.RunOnce(ctx)
	for i, want := range []string{auditor.VerdictValid, auditor.VerdictWrongKey, auditor.VerdictUnreadable} {
		if rs[i].Verdict != want {
			t.Errorf("%s: verdict %q (%s), want %q", rs[i].Log, rs[i].Verdict, rs[i].Reason, want)
		}
		ok := 0.0
		if want == auditor.VerdictValid {
			ok = 1
		}
		if got := metric(t, reg, "sealog_audit_last_result", rs[i].Log); got != ok {
			t.Errorf("%s: sealog_audit_last_result %v", rs[i].Log, got)
		}
	}
	if rs[0].Size != 0 || rs[0].New != nil {
		t.Fatalf("the empty log: %+v", rs[0])
	}
	logfixture.Build(t, empty, one)
	if r := a.RunOnce(ctx)[0]; !r.Valid || r.Size != 10 || r.Old != nil {
		t.Fatalf("the empty log grown: %+v", r)
	}
	// A stopped auditor reports nothing for the audit it interrupted.
	stopped, stop := context.WithCancel(ctx)
	stop()
	if rs := a.RunOnce(stopped); len(rs) != 0 {
		t.Fatalf("RunOnce after ctx ended: %+v", rs)
	}
}

// TestCheckCheckpoint checks the witness-policy hook: it sees each new
// checkpoint before it is trusted, and a refusal fails the audit with
// VerdictRefused and leaves the trusted checkpoint where it was.
func TestCheckCheckpoint(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	_, vkey := logfixture.Keys()
	dir := filepath.Join(t.TempDir(), "log")
	logfixture.Build(t, dir, one)
	var seen []uint64
	refuse := false
	a, err := auditor.New(auditor.Config{
		Logs:  []auditor.Log{{Name: dir, Key: vkey}},
		State: filepath.Join(t.TempDir(), "state.json"),
		CheckCheckpoint: func(log string, signed []byte) error {
			c, err := checkpoint.ParseUnverified(signed)
			if err != nil {
				return err
			}
			seen = append(seen, c.Size)
			if refuse {
				return fmt.Errorf("no quorum of cosignatures")
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if r := a.RunOnce(ctx)[0]; !r.Valid || r.Size != 10 {
		t.Fatalf("first audit: %+v", r)
	}
	logfixture.Build(t, dir, two)
	refuse = true
	r := a.RunOnce(ctx)[0]
	if r.Verdict != auditor.VerdictRefused || r.Size != 10 || !strings.Contains(r.Reason, "no quorum") {
		t.Fatalf("refused checkpoint: %+v", r)
	}
	refuse = false
	if r := a.RunOnce(ctx)[0]; !r.Valid || r.Size != 25 {
		t.Fatalf("accepted checkpoint: %+v", r)
	}
	if fmt.Sprint(seen) != "[10 25 25]" {
		t.Fatalf("the hook saw sizes %v", seen)
	}
}
