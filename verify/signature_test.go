package verify_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/internal/speclog"
	"github.com/sealog/sealog/verify"
)

// setSig replaces the signature member of entry seq's line (adding one if
// it has none) with sig, base64-encoded as is.
func setSig(t *testing.T, dir string, seq int, sig []byte) {
	t.Helper()
	segs := readSegs(t, dir)
	i, j := locate(t, segs, seq)
	l := bytes.TrimSuffix(segs[i].lines[j], []byte("}\n"))
	if k := bytes.LastIndex(l, []byte(`,"sig":"`)); k >= 0 && bytes.HasSuffix(l, []byte(`"`)) {
		l = l[:k]
	}
	segs[i].lines[j] = fmt.Appendf(nil, `%s,"sig":"%s"}`+"\n", l, base64.StdEncoding.EncodeToString(sig))
	writeSegs(t, segs)
}

// TestSignatureMembers: every signature member is well-formed, and one
// that does not verify is reported for what it is (issue 8, items 5, 8
// and 9). The log has batches of 4: signatures on entries 3, 7, ..., 19.
func TestSignatureMembers(t *testing.T) {
	l := specLog(4, 4, 4, 4, 4)
	genuine := func(seq int) []byte { // entry seq's signature, decoded
		ln, err := format.ParseLine(bytes.TrimSuffix(l.Lines[seq], []byte("\n")))
		if err != nil || ln.Sig == nil {
			t.Fatalf("entry %d has no signature", seq)
		}
		return ln.Sig
	}
	cases := []struct {
		name      string
		tamper    func(dir string)
		all       bool
		verdict   string
		first     *uint64
		kind      string
		unchecked bool // the report counts the changed signature as not checked
	}{
		{"intermediate signature of the wrong length", func(dir string) {
			setSig(t, dir, 7, append(genuine(7), 0))
		}, false, verify.VerdictTampered, ptr(7), "malformed", false},
		{"garbage of the right length, another key hash", func(dir string) {
			setSig(t, dir, 7, bytes.Repeat([]byte{0xAB}, format.SigSize))
		}, false, verify.VerdictTampered, ptr(7), "signature", false},
		{"garbage with the key's hash: not checked by default", func(dir string) {
			sig := genuine(7)
			copy(sig[4:], bytes.Repeat([]byte{0xCD}, 64))
			setSig(t, dir, 7, sig)
		}, false, verify.VerdictValid, nil, "", true},
		{"garbage with the key's hash, every signature checked", func(dir string) {
			sig := genuine(7)
			copy(sig[4:], bytes.Repeat([]byte{0xCD}, 64))
			setSig(t, dir, 7, sig)
		}, true, verify.VerdictTampered, ptr(7), "signature", false},
		{"a bogus signature on a line that ends no batch (item 9)", func(dir string) {
			setSig(t, dir, 5, genuine(7))
		}, true, verify.VerdictTampered, ptr(5), "signature", false},
		{"the first batch's signature swapped for another's", func(dir string) {
			setSig(t, dir, 3, genuine(7))
		}, true, verify.VerdictTampered, ptr(3), "signature", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeSpec(t, l, 8)
			tc.tamper(dir)
			rep := run(t, dir, verify.Options{Key: l.VKey, AllSignatures: tc.all})
			want(t, rep, tc.verdict, tc.first)
			if tc.kind != "" && rep.FirstProblem.Kind != tc.kind {
				t.Fatalf("first problem %+v, want kind %q: %s", rep.FirstProblem, tc.kind, dump(rep))
			}
			if tc.kind == "signature" && rep.Changed != 0 {
				t.Fatalf("a signature alone was changed, yet %d entries are counted changed: %s", rep.Changed, dump(rep))
			}
			var b strings.Builder
			rep.WriteText(&b, verify.TextOptions{})
			if tc.unchecked && (rep.SignaturesUnchecked != 4 || !strings.Contains(b.String(), "4 not checked")) {
				t.Fatalf("signatures unchecked %d, want 4 (every one but the newest), and said so:\n%s", rep.SignaturesUnchecked, b.String())
			}
			text := dump(rep)
			for _, lie := range []string{"signed by another key", "re-signed from its start", "the newest batch signature"} {
				if strings.Contains(text, lie) {
					t.Fatalf("the report says %q, which is false here: %s", lie, text)
				}
			}
		})
	}
}

// TestWrongKeyVerdict: a log signed by another key than the one given is
// its own verdict, with no entry counted changed (issue 8, item 8).
func TestWrongKeyVerdict(t *testing.T) {
	l := specLog(4, 4, 4)
	dir := writeSpec(t, l, 4)
	_, other := speclog.Keys("someone else", "test.example/audit")
	_, otherOrigin := speclog.Keys("someone else", "other.example/audit")
	for _, tc := range []struct {
		name, key, says string
	}{
		{"another key of the same name", other, "verify with the key stored in its sealog.json"},
		{"a key of another log", otherOrigin, `is for "other.example/audit"`},
	} {
		for _, all := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s, all=%v", tc.name, all), func(t *testing.T) {
				rep := run(t, dir, verify.Options{Key: tc.key, AllSignatures: all})
				want(t, rep, verify.VerdictWrongKey, nil)
				if rep.Changed != 0 || rep.Tampered != 0 || rep.Authenticated != 0 || rep.FirstProblem == nil || !strings.Contains(rep.FirstProblem.Reason, tc.says) {
					t.Fatalf("%s", dump(rep))
				}
				var b strings.Builder
				rep.WriteText(&b, verify.TextOptions{})
				if !strings.Contains(b.String(), "WRONG KEY") || strings.Contains(b.String(), "first invalid") {
					t.Fatalf("%s", b.String())
				}
			})
		}
	}
}
