package auditor

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/internal/logfixture"
)

// TestWebhookVector checks the webhook vector of docs/AUDIT.md: its
// signature is Sign's, a changed byte fails it, and the body is exactly
// what Payload encodes to.
func TestWebhookVector(t *testing.T) {
	secret, err := os.ReadFile("../testdata/audit/webhook.secret")
	if err != nil {
		t.Fatal(err)
	}
	secret = bytes.TrimRight(secret, "\r\n")
	body, err := os.ReadFile("../testdata/audit/webhook-body.json")
	if err != nil {
		t.Fatal(err)
	}
	sig, err := os.ReadFile("../testdata/audit/webhook-signature")
	if err != nil {
		t.Fatal(err)
	}
	want := strings.TrimSpace(string(sig))
	if got := Sign(secret, body); got != want {
		t.Fatalf("Sign = %s, the vector says %s", got, want)
	}
	for _, c := range []struct {
		name         string
		body, secret []byte
		header       string
		ok           bool
	}{
		{"vector", body, secret, want, true},
		{"changed body", append(bytes.Clone(body[:len(body)-2]), '0', '}'), secret, want, false},
		{"other secret", body, []byte("another secret"), want, false},
		{"no prefix", body, secret, strings.TrimPrefix(want, "sha256="), false},
		{"upper case", body, secret, strings.ToUpper(want), false},
		{"empty", body, secret, "", false},
	} {
		if got := CheckSignature(c.secret, c.body, c.header); got != c.ok {
			t.Errorf("%s: CheckSignature = %v", c.name, got)
		}
	}
	var p Payload
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatal(err)
	}
	again, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, body) {
		t.Fatalf("the vector's body is not what Payload encodes to:\n%s\n%s", body, again)
	}
}

// TestStateVector checks the state file of docs/AUDIT.md: it reads, its
// checkpoint verifies with the fixtures' key, and it is what save writes.
func TestStateVector(t *testing.T) {
	b, err := os.ReadFile("../testdata/audit/state.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := readDoc("../testdata/audit/state.json")
	if err != nil {
		t.Fatal(err)
	}
	st := doc.Logs["/var/lib/audit"]
	if st == nil {
		t.Fatal("no /var/lib/audit in the vector")
	}
	_, vkey := logfixture.Keys()
	v, _ := note.NewVerifier(vkey)
	ck, _, err := checkpoint.Verify([]byte(st.Checkpoint), v, v.Name())
	if err != nil || ck.Size != st.Size || ck.Root != st.Root || st.Key != vkey {
		t.Fatalf("the vector's checkpoint: %v %+v", err, ck)
	}
	path := filepath.Join(t.TempDir(), "state.json")
	s, err := openStates(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	if err := s.save(st); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if !bytes.Equal(got, b) {
		t.Fatalf("save writes\n%s\nthe vector is\n%s", got, b)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file mode %v", fi.Mode())
	}
}

// TestStateRefused checks that a state that does not fit the log is
// refused at New: kept for another key, a checkpoint that does not
// verify, a size that is not its checkpoint's, not a state at all.
func TestStateRefused(t *testing.T) {
	vec, err := os.ReadFile("../testdata/audit/state.json")
	if err != nil {
		t.Fatal(err)
	}
	_, vkey := logfixture.Keys()
	_, otherKey := logfixture.OtherKeys()
	for _, c := range []struct {
		name, state, key, want string
	}{
		{"another key", string(vec), otherKey, "kept with another verifier key"},
		{"bad signature", strings.Replace(string(vec), "/iAOSS4Yc", "/iAOSS4Yd", 1), vkey, "its checkpoint"},
		{"size", strings.Replace(string(vec), `"size": 25`, `"size": 24`, 1), vkey, "not its checkpoint's"},
		{"format", strings.Replace(string(vec), "state/v1", "state/v9", 1), vkey, "has format"},
		{"unknown member", strings.Replace(string(vec), `"result"`, `"resalt"`, 1), vkey, "not an auditor's state"},
		{"not json", "checkpoint\n", vkey, "not an auditor's state"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.json")
			if err := os.WriteFile(path, []byte(c.state), 0o600); err != nil {
				t.Fatal(err)
			}
			a, err := New(Config{Logs: []Log{{Name: "/var/lib/audit", Key: c.key}}, State: path})
			if err == nil {
				a.Close()
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q, want it to say %q", err, c.want)
			}
		})
	}
}

// FuzzReadDoc reads arbitrary state files: an error or a state, never a
// panic.
func FuzzReadDoc(f *testing.F) {
	vec, err := os.ReadFile("../testdata/audit/state.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(vec)
	f.Add([]byte(`{"format":"sealog-auditor-state/v1","logs":null}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), "s.json")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		doc, err := readDoc(path)
		if err == nil && (doc.Logs == nil || doc.Format != StateFormat) {
			t.Fatalf("accepted %q as %+v", b, doc)
		}
	})
}
