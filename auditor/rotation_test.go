package auditor_test

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/auditor"
	"github.com/sealog/sealog/internal/logfixture"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/server"
	storeopen "github.com/sealog/sealog/store/open"
)

// fixtureKey returns a seeded key of the fixtures' origin.
func fixtureKey(t *testing.T, seed string) (*sealog.Key, string) {
	t.Helper()
	skey, vkey := testkit.Keys(seed, logfixture.Origin)
	k, err := sealog.ParseKey(skey)
	if err != nil {
		t.Fatal(err)
	}
	return k, vkey
}

// openLog opens the log named name (a directory or a storeopen URL) with
// key, its current key.
func openLog(t *testing.T, name string, key *sealog.Key, seed string) *sealog.Log {
	_, firstKey := logfixture.Keys()
	return openLogFirst(t, name, key, seed, firstKey)
}

// openLogFirst is openLog for a log created with the key firstKey.
func openLogFirst(t *testing.T, name string, key *sealog.Key, seed, firstKey string) *sealog.Log {
	t.Helper()
	opts := sealog.Options{Key: key, Clock: testkit.Clock(time.Millisecond), Rand: testkit.Rand(seed)}
	loc, err := storeopen.Parse(name)
	if err != nil {
		t.Fatal(err)
	}
	var l *sealog.Log
	if loc.Kind == storeopen.File {
		l, err = sealog.Open(name, opts)
	} else {
		st, oerr := storeopen.Open(t.Context(), name, storeopen.Options{Origin: logfixture.Origin, Key: firstKey})
		if oerr != nil {
			t.Fatal(oerr)
		}
		l, err = sealog.New(t.Context(), st, opts)
	}
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// An auditor given the log's first key follows its rotations, for every
// kind of log (a server's through the client's rotation following),
// keeps the chain in its state, and a restarted auditor goes on from it.
// A log re-signed by an unrelated key is refused.
func TestAuditFollowsRotation(t *testing.T) {
	skey, vkey := logfixture.Keys()
	first, _ := sealog.ParseKey(skey)
	k2, vk2 := fixtureKey(t, "audit-next")
	k3, _ := fixtureKey(t, "audit-third")
	x, vx := fixtureKey(t, "audit-unrelated")
	for _, kind := range []string{"dir", "sqlite", "server"} {
		t.Run(kind, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			name := filepath.Join(t.TempDir(), "log")
			if kind == "sqlite" {
				name = "sqlite://" + name + ".db"
			}
			logfixture.Build(t, name, one)
			target, live := name, (*sealog.Log)(nil)
			// serve serves the log, open with key, when kind is server.
			var hs *httptest.Server
			serve := func(key *sealog.Key, seed string) *sealog.Log {
				l := openLog(t, name, key, seed)
				if kind != "server" {
					return l
				}
				tokens, err := server.CreateTokens(filepath.Join(t.TempDir(), "tokens.json"))
				if err != nil {
					t.Fatal(err)
				}
				srv, err := server.New(ctx, server.Config{Log: l, Tokens: tokens, PublicReads: true, IdempotencyFile: filepath.Join(t.TempDir(), "idem")})
				if err != nil {
					t.Fatal(err)
				}
				if hs == nil {
					hs = httptest.NewServer(srv)
					t.Cleanup(hs.Close)
				} else {
					hs.Config.Handler = srv
				}
				target = hs.URL
				return l
			}
			live = serve(first, "serve one")
			state := filepath.Join(t.TempDir(), "state.json")
			newAuditor := func() *auditor.Auditor {
				a, err := auditor.New(auditor.Config{Logs: []auditor.Log{{Name: target, Key: vkey}}, State: state, Logger: testkit.Logger(t)})
				if err != nil {
					t.Fatal(err)
				}
				return a
			}
			if kind != "server" {
				live.Close()
			}
			a := newAuditor()
			if r := a.RunOnce(ctx)[0]; !r.Valid || r.Size != 10 {
				t.Fatalf("before the rotation: %+v", r)
			}
			if kind != "server" {
				live = openLog(t, name, first, "rotate")
			}
			rot, err := live.Rotate(ctx, k2)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := live.AppendBatch(ctx, logfixture.Events(11, 4, "after")); err != nil {
				t.Fatal(err)
			}
			if kind != "server" {
				live.Close()
			}
			r := a.RunOnce(ctx)[0]
			if !r.Valid || r.Size != 15 {
				t.Fatalf("after the rotation: %v %s", r.Verdict, r.Reason)
			}
			a.Close()
			// Restarted: the state holds the chain; the log rotates
			// again meanwhile.
			if kind == "server" {
				live.Close()
			}
			live = serve(k2, "rotate again")
			if _, err := live.Rotate(ctx, k3); err != nil {
				t.Fatal(err)
			}
			if _, err := live.AppendBatch(ctx, logfixture.Events(16, 3, "third")); err != nil {
				t.Fatal(err)
			}
			if kind != "server" {
				live.Close()
			}
			a = newAuditor()
			defer a.Close()
			r = a.RunOnce(ctx)[0]
			if !r.Valid || r.Size != 19 {
				t.Fatalf("restarted, after a second rotation: %v %s", r.Verdict, r.Reason)
			}
			if !strings.Contains(readState(t, state), vk2) || rot.Seq != 10 {
				t.Fatalf("the state does not keep the chain (rotation at %d): %s", rot.Seq, readState(t, state))
			}
			// The log replaced by one of the same origin signed by an
			// unrelated key: refused, the trusted checkpoint unmoved.
			if kind == "server" {
				live.Close()
			}
			forged := filepath.Join(t.TempDir(), "forged")
			if kind == "sqlite" {
				forged = "sqlite://" + forged + ".db"
			}
			fl := openLogFirst(t, forged, x, "forged", vx)
			if _, err := fl.AppendBatch(ctx, logfixture.Events(0, 25, "forged")); err != nil {
				t.Fatal(err)
			}
			fl.Close()
			switch kind {
			case "dir":
				logfixture.ReplaceDir(t, name, forged)
			case "sqlite":
				logfixture.ReplaceSQLite(t, strings.TrimPrefix(name, "sqlite://"), strings.TrimPrefix(forged, "sqlite://"))
			case "server":
				name = forged
				live = serve(x, "forged serve")
				_ = vx
				defer live.Close()
			}
			r = a.RunOnce(ctx)[0]
			if r.Valid || r.Size != 19 || (r.Verdict != auditor.VerdictWrongKey && r.Verdict != auditor.VerdictTampered) {
				t.Fatalf("a log re-signed by an unrelated key: %v (%s), size %d", r.Verdict, r.Reason, r.Size)
			}
			t.Logf("a log re-signed by an unrelated key: %s: %s", r.Verdict, r.Reason)
		})
	}
}

func readState(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
