package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sealog/sealog/client"
	"github.com/sealog/sealog/internal/logfixture"
	"github.com/sealog/sealog/internal/testkit"
)

// TestAuditOnce runs 'sealog audit --once' as cron would, checking its
// exit codes, that it never writes to the log, and that two auditors
// with their own state watch one log while one state cannot be shared.
func TestAuditOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "log")
	logfixture.Build(t, dir, auditOne)
	pub, _, _ := auditFiles(t)
	stateA, stateB := filepath.Join(t.TempDir(), "a.json"), filepath.Join(t.TempDir(), "b.json")
	if code, rs, errs := auditOnce(t, ctx, dir, "--key", pub, "--state", stateA); code != 0 || len(rs) != 1 || !rs[0].Valid || rs[0].VerifiedSize != 10 {
		t.Fatalf("first audit: exit %d, %+v, %s", code, rs, errs)
	}
	if fi, err := os.Stat(stateA); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file: %v %v", err, fi)
	}
	logfixture.Build(t, dir, auditTwo)
	// Auditor B starts now: its first audit trusts the key alone.
	for _, st := range []string{stateA, stateB} {
		if code, rs, errs := auditOnce(t, ctx, dir, "--key", pub, "--state", st); code != 0 || !rs[0].Valid || rs[0].VerifiedSize != 25 {
			t.Fatalf("audit with %s: exit %d, %+v, %s", st, code, rs, errs)
		}
	}
	// Entries cut and re-signed: both auditors see it.
	mid := logfixture.TreeHash(t, dir)
	other := filepath.Join(t.TempDir(), "cut")
	logfixture.Build(t, other, auditOne)
	saved := filepath.Join(t.TempDir(), "saved")
	if err := os.Rename(dir, saved); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(other, dir); err != nil {
		t.Fatal(err)
	}
	for _, st := range []string{stateA, stateB} {
		if code, rs, _ := auditOnce(t, ctx, dir, "--key", pub, "--state", st); code != 1 || rs[0].Verdict != "truncated" {
			t.Fatalf("audit of the cut log with %s: exit %d, %+v", st, code, rs)
		}
	}
	// The log put back: valid again, and the audits wrote nothing to it.
	os.RemoveAll(dir)
	if err := os.Rename(saved, dir); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := auditOnce(t, ctx, dir, "--key", pub, "--state", stateA); code != 0 {
		t.Fatalf("audit of the restored log: exit %d, %s", code, errs)
	}
	if got := logfixture.TreeHash(t, dir); got != mid {
		t.Fatal("the audits changed the log's files")
	}
	// One log valid and one missing: exit 3. A missing key: exit 2.
	code, rs, _ := auditOnce(t, ctx, dir, filepath.Join(t.TempDir(), "nothing"), "--key", pub, "--state", stateA)
	if code != 3 || len(rs) != 2 || !rs[0].Valid || rs[1].Verdict != "unreadable" {
		t.Fatalf("a missing log: exit %d, %+v", code, rs)
	}
	if code, _, errs := auditOnce(t, ctx, dir, "--state", stateA); code != 2 || !strings.Contains(errs, "--key") {
		t.Fatalf("no key: exit %d, %s", code, errs)
	}
	// A running auditor holds its state: a second one is refused.
	w := startWatcher(t, ctx, dir, "--key", pub, "--state", stateA)
	w.await(t, "the watcher's first audit", func(r auditResultJSON) bool { return r.Valid })
	if code, _, errs := auditOnce(t, ctx, dir, "--key", pub, "--state", stateA); code != 3 || !strings.Contains(errs, "in use by another auditor") {
		t.Fatalf("a shared state: exit %d, %s", code, errs)
	}
	stopWatcher(t, w)
}

// TestAuditSecrets checks that a webhook secret others can read is
// refused, and that no secret is ever printed.
func TestAuditSecrets(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "log")
	logfixture.Build(t, dir, auditOne)
	pub, secretFile, secret := auditFiles(t)
	if err := os.Chmod(secretFile, 0o644); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(t.TempDir(), "s.json")
	code, _, errs := auditOnce(t, ctx, dir, "--key", pub, "--state", state, "--webhook", "http://127.0.0.1:1/", "--webhook-secret", secretFile)
	if code != 3 || !strings.Contains(errs, "readable by others") || strings.Contains(errs, string(secret)) {
		t.Fatalf("secret readable by others: exit %d, %s", code, errs)
	}
	if err := os.Chmod(secretFile, 0o600); err != nil {
		t.Fatal(err)
	}
	// A webhook that cannot be reached: the audit's result stands (the
	// log is valid, exit 0), the failure is reported, the secret is not.
	logfixture.EditDirLine(t, dir, 2, `"user-2"`, `"user-8"`)
	// The URL carries a token of its own, as many webhook URLs do: it is
	// never printed either.
	code, rs, errs := auditOnce(t, ctx, dir, "--key", pub, "--state", state, "--webhook", "http://127.0.0.1:1/hooks/T0KEN-in-url", "--webhook-secret", secretFile, "--webhook-attempts", "2", "-v")
	if code != 1 || rs[0].Verdict != "tampered" || rs[0].Webhook == "" || strings.Contains(errs+rs[0].Webhook, string(secret)) || strings.Contains(errs+rs[0].Webhook, "T0KEN") {
		t.Fatalf("unreachable webhook: exit %d, %+v, %s", code, rs, errs)
	}
}

// TestAuditServer audits a 'sealog serve' server by URL while the log
// grows through the API, then restarts the server on a log cut back and
// re-signed, or forked, and checks the verdicts and the fork's evidence.
func TestAuditServer(t *testing.T) {
	for _, c := range []struct {
		name    string
		rebuild []logfixture.Phase
		verdict string
	}{
		{"cut-and-resign", []logfixture.Phase{auditOne}, "truncated"},
		{"fork", []logfixture.Phase{auditOne, auditForked}, "forked"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
			defer cancel()
			data, logDir := t.TempDir(), filepath.Join(t.TempDir(), "log")
			logfixture.Build(t, logDir, auditOne)
			skey, vkey := logfixture.Keys()
			keyFile := filepath.Join(t.TempDir(), "signer.key")
			if err := os.WriteFile(keyFile, []byte(skey+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			s := startServe(t, ctx, data, "--store", logDir, "--key", keyFile)
			tokenFile := filepath.Join(t.TempDir(), "token")
			if err := os.WriteFile(tokenFile, []byte(s.token+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			pub, secretFile, secret := auditFiles(t)
			rcv := newHookReceiver(t, secret)
			state := filepath.Join(t.TempDir(), "state.json")
			args := []string{s.url, "--key", pub, "--state", state, "--token-file", tokenFile, "--webhook", rcv.URL, "--webhook-secret", secretFile}
			if code, rs, errs := auditOnce(t, ctx, args...); code != 0 || !rs[0].Valid || rs[0].VerifiedSize != 10 {
				t.Fatalf("first audit: exit %d, %+v, %s", code, rs, errs)
			}
			// Another key than the log's: the server's checkpoint is not
			// signed by it.
			_, otherKey := logfixture.OtherKeys()
			otherPub := filepath.Join(t.TempDir(), "other.pub")
			if err := os.WriteFile(otherPub, []byte(otherKey+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if code, rs, errs := auditOnce(t, ctx, s.url, "--key", otherPub, "--state", filepath.Join(t.TempDir(), "o.json"), "--token-file", tokenFile); code != 1 || rs[0].Verdict != "wrong-key" {
				t.Fatalf("another key: exit %d, %+v, %s", code, rs, errs)
			}
			cl, err := client.New(client.Config{URL: s.url, Token: s.token, VerifierKey: vkey})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := cl.AppendBatch(ctx, logfixture.Events(10, 15, "posted")); err != nil {
				t.Fatal(err)
			}
			cl.Close()
			if code, rs, errs := auditOnce(t, ctx, args...); code != 0 || !rs[0].Valid || rs[0].VerifiedSize != 25 {
				t.Fatalf("audit of the grown log: exit %d, %+v, %s", code, rs, errs)
			}
			addr := strings.TrimPrefix(s.url, "http://")
			if code := s.stop(t, syscall.SIGTERM); code != 0 {
				t.Fatalf("serve: exit %d", code)
			}
			other := filepath.Join(t.TempDir(), "rebuilt")
			logfixture.Build(t, other, c.rebuild...)
			logfixture.ReplaceDir(t, logDir, other)
			if s2 := startServe(t, ctx, data, "--store", logDir, "--key", keyFile, "--listen", addr); s2.url != s.url {
				t.Fatalf("the restarted server is at %s, not %s", s2.url, s.url)
			}
			code, rs, errs := auditOnce(t, ctx, args...)
			if code != 1 || rs[0].Verdict != c.verdict || rs[0].VerifiedSize != 25 {
				t.Fatalf("audit of the %s server: exit %d, %+v, %s", c.name, code, rs, errs)
			}
			ps, bad := rcv.payloads()
			if len(ps) != 1 || bad != 0 || ps[0].Verdict != c.verdict {
				t.Fatalf("webhook: %d payloads, %d bad: %+v", len(ps), bad, ps)
			}
			if c.verdict == "forked" {
				checkForkPayload(t, ps[0])
			}
		})
	}
}

var auditSchemas atomic.Int64

// TestAuditPostgres audits a log in PostgreSQL: valid while it grows,
// then tampered with by SQL (an entry edited), then forked (the schema
// replaced by a log rewritten from entry 10 and re-signed).
func TestAuditPostgres(t *testing.T) {
	testkit.PostgresShared(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	base := os.Getenv("SEALOG_TEST_POSTGRES")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL at %s is unreachable and CI=true, so this test must run: %v", base, err)
		}
		t.Skipf("PostgreSQL at %s is unreachable: %v (with CI=true this fails)", base, err)
	}
	defer conn.Close(context.Background())
	schema := fmt.Sprintf("audit_e2e_%d_%d", os.Getpid(), auditSchemas.Add(1))
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), base)
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close(context.Background())
		for _, s := range []string{schema, schema + "_fork", schema + "_old"} {
			c.Exec(context.Background(), `DROP SCHEMA IF EXISTS `+pgx.Identifier{s}.Sanitize()+` CASCADE`)
		}
	})
	// With trust authentication the password is ignored: it is there to
	// show that it never reaches the state or the output.
	const password = "pw-never-shown"
	withPassword := strings.Replace(base, "postgres@", "postgres:"+password+"@", 1)
	name := func(s string) string { return withPassword + "&schema=" + s }
	logfixture.Build(t, name(schema), auditOne)
	pub, _, _ := auditFiles(t)
	state := filepath.Join(t.TempDir(), "state.json")
	if code, rs, errs := auditOnce(t, ctx, name(schema), "--key", pub, "--state", state); code != 0 || !rs[0].Valid || rs[0].VerifiedSize != 10 {
		t.Fatalf("first audit: exit %d, %+v, %s", code, rs, errs)
	}
	logfixture.Build(t, name(schema), auditTwo)
	code, rs, errs := auditOnce(t, ctx, name(schema), "--key", pub, "--state", state)
	if code != 0 || !rs[0].Valid || rs[0].VerifiedSize != 25 {
		t.Fatalf("second audit: exit %d, %+v, %s", code, rs, errs)
	}
	if b, err := os.ReadFile(state); err != nil || strings.Contains(string(b)+rs[0].Log+errs, password) || !strings.Contains(rs[0].Log, "xxxxx") {
		t.Fatalf("the password is shown or kept (log %q), or the state is unreadable: %v", rs[0].Log, err)
	}
	q := pgx.Identifier{schema, "entries"}.Sanitize()
	edit := `UPDATE ` + q + ` SET line = convert_to(replace(convert_from(line, 'UTF8'), $1, $2), 'UTF8') WHERE seq = $3`
	if tag, err := conn.Exec(ctx, edit, `"user-5"`, `"user-6"`, 5); err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("edit: %v %v", tag, err)
	}
	code, rs, errs = auditOnce(t, ctx, name(schema), "--key", pub, "--state", state)
	if code != 1 || rs[0].Verdict != "tampered" || rs[0].FirstInvalid == nil || *rs[0].FirstInvalid != 5 {
		t.Fatalf("after the edit: exit %d, %+v, %s", code, rs, errs)
	}
	if _, err := conn.Exec(ctx, edit, `"user-6"`, `"user-5"`, 5); err != nil {
		t.Fatal(err)
	}
	if code, rs, errs := auditOnce(t, ctx, name(schema), "--key", pub, "--state", state); code != 0 || !rs[0].Valid {
		t.Fatalf("after undoing the edit: exit %d, %+v, %s", code, rs, errs)
	}
	logfixture.Build(t, name(schema+"_fork"), auditOne, auditForked)
	for _, stmt := range []string{
		`ALTER SCHEMA ` + pgx.Identifier{schema}.Sanitize() + ` RENAME TO ` + pgx.Identifier{schema + "_old"}.Sanitize(),
		`ALTER SCHEMA ` + pgx.Identifier{schema + "_fork"}.Sanitize() + ` RENAME TO ` + pgx.Identifier{schema}.Sanitize(),
	} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	code, rs, errs = auditOnce(t, ctx, name(schema), "--key", pub, "--state", state)
	if code != 1 || rs[0].Verdict != "forked" {
		t.Fatalf("after the fork: exit %d, %+v, %s", code, rs, errs)
	}
}

// TestAuditRevocationsCLI: a key that leaked is revoked with 'sealog key
// revoke', signed by an offline root key; 'sealog audit --once' given the
// statement and the root key fails the log whose later entries only the
// leaked key vouches for (exit 1, verdict revoked, the first entry past
// the point) and keeps the checkpoint trusted before; --revocation-key
// without --revocations is a usage error.
func TestAuditRevocationsCLI(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "log")
	logfixture.Build(t, dir, auditOne)
	pub, _, _ := auditFiles(t)
	state := filepath.Join(t.TempDir(), "state.json")
	if code, rs, errs := auditOnce(t, ctx, dir, "--key", pub, "--state", state); code != 0 || !rs[0].Valid || rs[0].VerifiedSize != 10 {
		t.Fatalf("first audit: exit %d, %+v, %s", code, rs, errs)
	}
	logfixture.Build(t, dir, auditTwo) // 15 more, signed with the key that leaked
	root := filepath.Join(t.TempDir(), "root.key")
	if out, err := runBinary(t, ctx, "keygen", "-o", root, "--name", "audit.example/root"); err != nil {
		t.Fatalf("keygen: %v\n%s", err, out)
	}
	cmd := exec.CommandContext(ctx, sealogBinary(t), "key", "revoke", dir, "--key", root, "--revoke", pub, "--size", "10", "--time", "2026-12-01T12:00:00Z")
	statement, err := cmd.Output()
	if err != nil {
		t.Fatalf("key revoke: %v", err)
	}
	stFile := filepath.Join(t.TempDir(), "revocation.txt")
	if err := os.WriteFile(stFile, statement, 0o644); err != nil {
		t.Fatal(err)
	}
	code, rs, errs := auditOnce(t, ctx, dir, "--key", pub, "--state", state, "--revocations", stFile, "--revocation-key", root+".pub")
	if code != 1 || len(rs) != 1 || rs[0].Verdict != "revoked" || rs[0].FirstInvalid == nil || *rs[0].FirstInvalid != 10 || rs[0].VerifiedSize != 10 {
		t.Fatalf("audit with the revocation: exit %d, %+v, %s", code, rs, errs)
	}
	if code, rs, errs := auditOnce(t, ctx, dir, "--key", pub, "--state", state); code != 0 || rs[0].VerifiedSize != 25 {
		t.Fatalf("audit without it: exit %d, %+v, %s", code, rs, errs)
	}
	if code, _, errs := auditOnce(t, ctx, dir, "--key", pub, "--state", state, "--revocation-key", root+".pub"); code != 2 || !strings.Contains(errs, "--revocations") {
		t.Fatalf("--revocation-key alone: exit %d, %s", code, errs)
	}
}
