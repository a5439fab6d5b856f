package auditor_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/auditor"
	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/internal/logfixture"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/server"
	"github.com/sealog/sealog/verify"
)

// revocation returns a statement revoking vkey at size, signed by signer.
func revocation(t *testing.T, vkey string, size uint64, signer *sealog.Key) []byte {
	t.Helper()
	text := verify.RevocationText(logfixture.Origin, vkey, size, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	sig, err := checkpoint.SignText(text, signer.Signer())
	if err != nil {
		t.Fatal(err)
	}
	return checkpoint.Assemble(text, signer.Verifier().Name(), sig)
}

// The log's key leaks once the auditor trusts 10 entries, and 5 more are
// signed with it: given the statement revoking the key at 10, signed by
// the offline root key, the audit fails as revoked (naming the first
// entry past the point) and the trusted checkpoint stays at 10; without
// it, or with a statement at 15, the log is valid. A statement that does
// not parse, or revokes a key of no log watched, is refused at New; one
// signed by the revoked key itself makes the audit unreadable, saying so.
func TestAuditHonoursRevocations(t *testing.T) {
	skey, vkey := logfixture.Keys()
	first, err := sealog.ParseKey(skey)
	if err != nil {
		t.Fatal(err)
	}
	rootSkey, _ := testkit.Keys("audit revocation root", "audit.example/root")
	root, err := sealog.ParseKey(rootSkey)
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"dir", "server"} {
		t.Run(kind, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			name := filepath.Join(t.TempDir(), "log")
			logfixture.Build(t, name, one)
			target := name
			var live *sealog.Log
			if kind == "server" {
				live = openLog(t, name, first, "serve")
				defer live.Close()
				tokens, err := server.CreateTokens(filepath.Join(t.TempDir(), "tokens.json"))
				if err != nil {
					t.Fatal(err)
				}
				srv, err := server.New(ctx, server.Config{Log: live, Tokens: tokens, PublicReads: true, IdempotencyFile: filepath.Join(t.TempDir(), "idem")})
				if err != nil {
					t.Fatal(err)
				}
				hs := httptest.NewServer(srv)
				defer hs.Close()
				target = hs.URL
			}
			state := filepath.Join(t.TempDir(), "state.json")
			reg := prometheus.NewRegistry()
			newAuditor := func(revs [][]byte, r *prometheus.Registry) *auditor.Auditor {
				t.Helper()
				cfg := auditor.Config{Logs: []auditor.Log{{Name: target, Key: vkey}}, State: state, Logger: testkit.Logger(t),
					Revocations: revs, RevocationKeys: []string{root.VerifierKey()}}
				if r != nil {
					cfg.Registerer = r
				}
				a, err := auditor.New(cfg)
				if err != nil {
					t.Fatal(err)
				}
				return a
			}
			a := newAuditor(nil, nil)
			if r := a.RunOnce(ctx)[0]; !r.Valid || r.Size != 10 {
				t.Fatalf("before the leak: %v %s", r.Verdict, r.Reason)
			}
			a.Close()
			if kind == "dir" {
				live = openLog(t, name, first, "leaked")
			}
			if _, err := live.AppendBatch(ctx, logfixture.Events(10, 5, "leaked")); err != nil {
				t.Fatal(err)
			}
			if kind == "dir" {
				live.Close()
			}

			a = newAuditor([][]byte{revocation(t, vkey, 10, root)}, reg)
			r := a.RunOnce(ctx)[0]
			a.Close()
			if r.Verdict != auditor.VerdictRevoked || r.Valid || r.Size != 10 || r.FirstInvalid == nil || *r.FirstInvalid != 10 {
				t.Fatalf("revoked at 10: %v (%s), size %d, first invalid %v", r.Verdict, r.Reason, r.Size, deref(r.FirstInvalid))
			}
			if !strings.Contains(r.Reason, "revoked") {
				t.Errorf("the reason does not say revoked: %s", r.Reason)
			}
			if n := metricWith(t, reg, "sealog_audit_errors_total", map[string]string{"log": r.Log, "kind": auditor.VerdictRevoked}); n != 1 {
				t.Errorf("sealog_audit_errors_total{kind=revoked} = %v, want 1", n)
			}
			if !strings.Contains(readState(t, state), `"size": 10`) {
				t.Fatalf("a revoked audit moved the trusted checkpoint: %s", readState(t, state))
			}

			a = newAuditor([][]byte{revocation(t, vkey, 15, root)}, nil)
			if r := a.RunOnce(ctx)[0]; !r.Valid || r.Size != 15 {
				t.Fatalf("revoked past the log's end: %v %s", r.Verdict, r.Reason)
			}
			a.Close()

			a = newAuditor([][]byte{revocation(t, vkey, 12, first)}, nil)
			if r := a.RunOnce(ctx)[0]; r.Verdict != auditor.VerdictUnreadable || !strings.Contains(r.Reason, "not signed by a key you trust other than the revoked one") ||
				!strings.Contains(r.Reason, "--revocation-key") {
				t.Fatalf("a statement signed by the revoked key: %v %s", r.Verdict, r.Reason)
			}
			a.Close()

			other, _ := testkit.Keys("audit revocation other", "other.example/log")
			ok, _ := sealog.ParseKey(other)
			for what, revs := range map[string][][]byte{
				"junk": {[]byte("not a statement\n")},
				"other origin": {func() []byte {
					b := revocation(t, vkey, 3, root)
					return []byte(strings.Replace(string(b), logfixture.Origin, ok.Origin(), 1))
				}()},
			} {
				if _, err := auditor.New(auditor.Config{Logs: []auditor.Log{{Name: target, Key: vkey}}, State: filepath.Join(t.TempDir(), "s.json"), Revocations: revs}); err == nil {
					t.Errorf("%s: a bad revocation statement was accepted", what)
				}
			}
		})
	}
}
