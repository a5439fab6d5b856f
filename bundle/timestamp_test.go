package bundle_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/bundle"
	"github.com/sealog/sealog/internal/testtsa"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/tstoken"
)

type x509Cert = x509.Certificate

const tsVectors = "../testdata/vectors/timestamps"

// TestBundleTimestamp: a bundle carries the RFC 3161 timestamp of its
// checkpoint, and verify-bundle checks it.
func TestBundleTimestamp(t *testing.T) {
	ctx := context.Background()
	l, err := sealog.Open(filepath.Join(tsVectors, "log"), sealog.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	vkey, _ := os.ReadFile(filepath.Join(tsVectors, "log.pub"))
	pemRoot, _ := os.ReadFile(filepath.Join(tsVectors, "tsa-root.pem"))
	roots, err := tstoken.ParseRoots(pemRoot)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := testtsa.New(testtsa.Options{})
	b, err := bundle.Build(ctx, l, []uint64{1, 3}, bundle.Options{Timestamped: true})
	if err != nil {
		t.Fatal(err)
	}
	if b.Timestamp == "" {
		t.Fatal("no timestamp in a bundle built with Timestamped")
	}
	// With Size 5, a batch end with a timestamp, it carries that one too.
	b5, err := bundle.Build(ctx, l, []uint64{1, 3}, bundle.Options{Size: 5})
	if err != nil || b5.Timestamp == "" {
		t.Fatalf("a bundle at size 5: %v, timestamp %q", err, b5.Timestamp)
	}
	tsr5, _ := os.ReadFile(filepath.Join(tsVectors, "log", layout.TimestampsDir, layout.TimestampName(5)))
	if b5.Timestamp != base64.StdEncoding.EncodeToString(tsr5) {
		t.Fatal("the bundle at size 5 does not carry the log's token for size 5")
	}
	key := strings.TrimSpace(string(vkey))
	cases := []struct {
		name    string
		edit    func(b bundle.Bundle) bundle.Bundle
		roots   []*x509Cert
		valid   bool
		status  string
		problem string
	}{
		{"intact, roots", func(b bundle.Bundle) bundle.Bundle { return b }, roots, true, "ok", ""},
		{"intact, no roots", func(b bundle.Bundle) bundle.Bundle { return b }, nil, true, "bound", ""},
		{"token of another checkpoint", func(b bundle.Bundle) bundle.Bundle { b.Timestamp = b5.Timestamp; return b }, roots, false, "bad", "imprint"},
		{"another TSA's roots", func(b bundle.Bundle) bundle.Bundle { return b }, []*x509Cert{other.CA}, false, "bad", "roots trust"},
		{"not base64", func(b bundle.Bundle) bundle.Bundle { b.Timestamp = "%%"; return b }, roots, false, "bad", "base64"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := tc.edit(*b)
			parsed, err := bundle.Parse(e.Marshal())
			if err != nil {
				t.Fatal(err)
			}
			r := parsed.VerifyTSA(key, tc.roots)
			if r.Valid != tc.valid || r.Timestamp == nil || r.Timestamp.Status != tc.status || !strings.Contains(r.Timestamp.Problem, tc.problem) {
				t.Fatalf("valid %v, timestamp %+v, problems %q", r.Valid, r.Timestamp, r.Problems)
			}
			if tc.valid && (r.Timestamp.TSA != "CN=sealog vector TSA" || r.Timestamp.Time.IsZero()) {
				t.Fatalf("timestamp %+v", r.Timestamp)
			}
		})
	}
	// A log without timestamps cannot make a Timestamped bundle.
	lv, err := sealog.Open(vectorLog, sealog.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer lv.Close()
	if _, err := bundle.Build(ctx, lv, []uint64{1}, bundle.Options{Timestamped: true}); err == nil || !strings.Contains(err.Error(), "no timestamped checkpoint") {
		t.Fatalf("Timestamped over a log without timestamps: %v", err)
	}
}
