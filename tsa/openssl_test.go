package tsa_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sealog/sealog/tsa"
	"github.com/sealog/sealog/tstoken"
)

// opensslTSA is a TSA run by 'openssl ts -reply', with a CA and a TSA
// certificate made by openssl: a TSA that shares no code with sealog.
type opensslTSA struct {
	dir  string
	root []byte // the CA, PEM
}

const tsaConf = `
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = .
serial = ./serial
signer_cert = ./tsa.pem
certs = ./tsa.pem
signer_key = ./tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.2
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
[ v3_tsa ]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = %s
[ v3_ca ]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign
`

// newOpensslTSA makes the CA and the TSA certificate; eku is the
// extendedKeyUsage line (e.g. "critical,timeStamping").
func newOpensslTSA(t *testing.T, eku string) *opensslTSA {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatalf("openssl is needed for this test (apt install openssl): %v", err)
	}
	dir := t.TempDir()
	conf := strings.Replace(tsaConf, "%s", eku, 1)
	must := func(args ...string) {
		t.Helper()
		cmd := exec.Command("openssl", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "tsa.cnf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "serial"), []byte("01\n"), 0o644)
	must("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
		"-days", "3650", "-subj", "/CN=openssl test root", "-config", "tsa.cnf", "-extensions", "v3_ca")
	must("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "tsa.key", "-out", "tsa.csr",
		"-subj", "/CN=openssl test TSA", "-config", "tsa.cnf")
	must("x509", "-req", "-in", "tsa.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "tsa.pem",
		"-days", "365", "-extfile", "tsa.cnf", "-extensions", "v3_tsa")
	root, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	return &opensslTSA{dir: dir, root: root}
}

// ServeHTTP answers a query with 'openssl ts -reply'.
func (o *opensslTSA) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	cmd := exec.CommandContext(r.Context(), "openssl", "ts", "-reply", "-config", "tsa.cnf", "-queryfile", "/dev/stdin", "-out", "/dev/stdout")
	cmd.Dir = o.dir
	cmd.Stdin = bytes.NewReader(q)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		http.Error(w, err.Error()+": "+stderr.String(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/timestamp-reply")
	w.Write(out.Bytes())
}

func TestOpensslTSA(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cases := []struct {
		eku    string
		verify bool // tstoken.Verify accepts its tokens
	}{
		{"critical,timeStamping", true},
		// openssl will not sign with a certificate whose timeStamping
		// usage is not critical; testtsa makes such tokens (the root
		// package's TestTimestampsNeedCriticalEKU).
	}
	for _, tc := range cases {
		t.Run(tc.eku, func(t *testing.T) {
			o := newOpensslTSA(t, tc.eku)
			srv := httptest.NewServer(o)
			defer srv.Close()
			roots, err := tsa.ParseRoots(o.root)
			if err != nil {
				t.Fatal(err)
			}
			c, err := tsa.New(tsa.Options{URL: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			msg := []byte("example.com/audit\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")
			tsr, err := c.Timestamp(ctx, msg)
			if err != nil {
				t.Fatal(err)
			}
			st, err := tstoken.Verify(tsr, msg, roots)
			if tc.verify != (err == nil) {
				t.Fatalf("tstoken.Verify: %v, want success %v", err, tc.verify)
			}
			if err == nil && (st.TSA != "CN=openssl test TSA" || time.Since(st.Time) > time.Minute || st.Nonce == nil) {
				t.Fatalf("stamp %+v", st)
			}
			if _, err := tstoken.Verify(tsr, append(msg, 'x'), roots); !errors.Is(err, tstoken.ErrImprint) {
				t.Fatalf("a token for another message: %v", err)
			}
			other := newOpensslTSA(t, tc.eku)
			otherRoots, _ := tsa.ParseRoots(other.root)
			if _, err := tstoken.Verify(tsr, msg, otherRoots); !errors.Is(err, tstoken.ErrUntrusted) {
				t.Fatalf("a token checked against another CA: %v", err)
			}
			// And openssl's own verifier agrees the token covers msg.
			data := filepath.Join(o.dir, "msg")
			os.WriteFile(data, msg, 0o644)
			os.WriteFile(filepath.Join(o.dir, "resp.tsr"), tsr, 0o644)
			cmd := exec.Command("openssl", "ts", "-verify", "-in", "resp.tsr", "-data", "msg", "-CAfile", "ca.pem")
			cmd.Dir = o.dir
			out, err := cmd.CombinedOutput()
			if tc.verify && (err != nil || !strings.Contains(string(out), "Verification: OK")) {
				t.Fatalf("openssl ts -verify: %v\n%s", err, out)
			}
		})
	}
}
