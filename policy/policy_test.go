package policy

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/internal/testkit"
)

const origin = "example.com/audit"

// cosigners returns n deterministic witnesses.
func cosigners(n int) []*checkpoint.Cosigner {
	var out []*checkpoint.Cosigner
	for i := range n {
		seed := make([]byte, 32)
		seed[0] = byte(i + 1)
		c, err := checkpoint.NewCosigner(fmt.Sprintf("w%d.example", i+1), ed25519.NewKeyFromSeed(seed))
		if err != nil {
			panic(err)
		}
		out = append(out, c)
	}
	return out
}

func testPolicy(t *testing.T, quorumLines string) (*Policy, note.Signer, []*checkpoint.Cosigner) {
	skey, vkey := testkit.Keys("policy", origin)
	s, _ := note.NewSigner(skey)
	ws := cosigners(6)
	var b strings.Builder
	fmt.Fprintf(&b, "# a test policy\nlog %s https://log.example/\n\n", vkey)
	for i, w := range ws {
		fmt.Fprintf(&b, "  witness\tX%d %s http://127.0.0.1:%d\n", i+1, w.VerifierKey(), 9000+i)
	}
	b.WriteString(quorumLines)
	p, err := Parse([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return p, s, ws
}

func cosigned(t *testing.T, s note.Signer, ws []*checkpoint.Cosigner, at time.Time) []byte {
	msg, err := checkpoint.Sign(checkpoint.Checkpoint{Origin: origin, Size: 10, Root: tlog.Hash{9}}, s)
	if err != nil {
		t.Fatal(err)
	}
	text := msg[:len(msg)-len("\n")]
	text = text[:strings.Index(string(text), "\n\n")+1]
	for _, w := range ws {
		msg = append(msg, w.Cosign(text, at)...)
	}
	return msg
}

func TestQuorum(t *testing.T) {
	p, s, ws := testPolicy(t, "group X 2 X1 X2 X3\ngroup Y any X4 X5 X6\ngroup XY all X Y\nquorum XY\n")
	at := testkit.Start
	cases := []struct {
		name string
		by   []*checkpoint.Cosigner
		ok   bool
	}{
		{"none", nil, false},
		{"two X, no Y", ws[:2], false},
		{"one X, one Y", []*checkpoint.Cosigner{ws[0], ws[3]}, false},
		{"two X, one Y", []*checkpoint.Cosigner{ws[0], ws[2], ws[5]}, true},
		{"all", ws, true},
		{"a duplicate line counts once", []*checkpoint.Cosigner{ws[0], ws[0], ws[4]}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			vd, err := p.Check(cosigned(t, s, c.by, at), nil)
			if c.ok != (err == nil) {
				t.Fatalf("Check: %v, want ok=%v", err, c.ok)
			}
			if !c.ok && !errors.Is(err, ErrNoQuorum) {
				t.Fatalf("error %v does not wrap ErrNoQuorum", err)
			}
			if c.ok && (vd.Vouched[0].Time != at || vd.Checkpoint.Size != 10) {
				t.Fatalf("verdict %+v", vd)
			}
		})
	}
	// A cosignature on another text does not count.
	msg := cosigned(t, s, ws[:3], at)
	other := cosigned(t, s, nil, at)
	forged := append(append([]byte(nil), other...), msg[len(other):]...)
	forged = []byte(strings.Replace(string(forged), "\n10\n", "\n11\n", 1))
	if _, err := p.Check(forged, nil); err == nil {
		t.Fatal("a checkpoint changed after cosigning passed")
	}
	// Another log's key is refused.
	sk2, _ := testkit.Keys("other", origin)
	s2, _ := note.NewSigner(sk2)
	if _, err := p.Check(cosigned(t, s2, ws, at), nil); err == nil || errors.Is(err, ErrNoQuorum) {
		t.Fatalf("a checkpoint by another key: %v", err)
	}
}

func TestQuorumNone(t *testing.T) {
	p, s, _ := testPolicy(t, "quorum none\n")
	if _, err := p.Check(cosigned(t, s, nil, testkit.Start), nil); err != nil {
		t.Fatal(err)
	}
}

func TestParseErrors(t *testing.T) {
	_, vkey := testkit.Keys("policy", origin)
	w := cosigners(2)
	wl := "witness A " + w[0].VerifierKey() + "\nwitness B " + w[1].VerifierKey() + "\n"
	cases := []struct{ name, text, want string }{
		{"no quorum", wl, "no quorum line"},
		{"two quorums", wl + "quorum A\nquorum B\n", "second quorum"},
		{"undefined quorum", wl + "quorum C\n", "not defined"},
		{"forward reference", "group G any A\n" + wl + "quorum G\n", "not defined"},
		{"none as member", wl + "group G any A none\nquorum G\n", "cannot be a group member"},
		{"member twice", wl + "group G 2 A A\nquorum G\n", "listed twice"},
		{"threshold too big", wl + "group G 3 A B\nquorum G\n", "threshold"},
		{"threshold zero", wl + "group G 0 A B\nquorum G\n", "threshold"},
		{"threshold leading zero", wl + "group G 01 A B\nquorum G\n", "threshold"},
		{"name twice", wl + "witness A " + w[1].VerifierKey() + "\nquorum A\n", "defined twice"},
		{"duplicate witness key", "witness A " + w[0].VerifierKey() + "\nwitness B " + w[0].VerifierKey() + "\nquorum A\n", "listed twice"},
		{"duplicate log key", "log " + vkey + "\nlog " + vkey + "\nquorum none\n", "listed twice"},
		{"log key as witness", "witness A " + vkey + "\nquorum A\n", "cosignature/v1"},
		{"witness key as log", "log " + w[0].VerifierKey() + "\nquorum none\n", "log key"},
		{"reserved name", "witness none " + w[0].VerifierKey() + "\nquorum none\n", "reserved"},
		{"unknown keyword", "witnesses A\nquorum none\n", "unknown keyword"},
		{"control character", "quorum none\r\n", "control character"},
		{"too many fields", "log " + vkey + " u extra\nquorum none\n", "want log"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.text))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Parse: %v, want an error about %q", err, c.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	_, vkey := testkit.Keys("policy", origin)
	w := cosigners(3)
	f.Add([]byte("log " + vkey + "\nwitness A " + w[0].VerifierKey() + " http://x/\nwitness B " + w[1].VerifierKey() +
		"\nwitness C " + w[2].VerifierKey() + "\ngroup G 2 A B C\ngroup H all G\nquorum H\n"))
	f.Add([]byte("# c\n\t\nquorum none\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b)
		if err != nil {
			return
		}
		// An accepted policy is well formed: thresholds within their
		// groups, witnesses with parsed keys, at most one quorum.
		var walk func(g *Group, depth int)
		walk = func(g *Group, depth int) {
			if g == nil || depth > 1000 {
				return
			}
			if g.Witness == nil && (g.Threshold < 1 || g.Threshold > len(g.Members)) {
				t.Fatalf("group %s: threshold %d of %d", g.Name, g.Threshold, len(g.Members))
			}
			for _, m := range g.Members {
				walk(m, depth+1)
			}
		}
		walk(p.Quorum, 0)
		for _, w := range p.Witnesses {
			if w.Verifier == nil {
				t.Fatal("witness without verifier")
			}
		}
		p.Satisfied(map[*Witness]bool{})
	})
}
