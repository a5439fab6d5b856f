package verify_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/sealog/sealog/verify"
)

func TestWriteText(t *testing.T) {
	key, err := os.ReadFile("../testdata/vectors/log.pub")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := verify.Verify(context.Background(), verify.Dir("../testdata/vectors/log"), verify.Options{Key: strings.TrimSpace(string(key))})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := rep.WriteText(&b, verify.TextOptions{Name: "vectors"}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"status:         VALID\n", "log:            vectors\n", "entries:        23 read in 6 segments", "erased:         1 entry", "truncation:     NOT ruled out", "(given by the verifier, not read from the log)"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if rep.Status() != "VALID" {
		t.Errorf("Status() = %q", rep.Status())
	}

	// A made-up tampered report: every problem is located, the list is
	// capped, and the key warning is there.
	seq := uint64(17)
	bad := &verify.Report{Origin: "o", Key: "k", KeyFromLog: true, Entries: 40, FirstInvalid: &seq,
		Gaps:              []verify.Gap{{From: 20, To: 21}, {From: 30, To: 30}},
		TruncationChecked: true, Truncated: true, Tampered: 3}
	for i := range 25 {
		s := uint64(17 + i)
		bad.Problems = append(bad.Problems, verify.Problem{Seq: &s, Kind: "content", Segment: "00000000000000000000.jsonl", Line: 18 + i, Reason: "changed"})
	}
	bad.FirstProblem = &bad.Problems[0]
	b.Reset()
	bad.WriteText(&b, verify.TextOptions{MaxProblems: 5})
	out = b.String()
	for _, want := range []string{
		"status:         TAMPERED\n",
		"WARNING: this key was read from the log itself",
		"first invalid:  seq 17 (segment 00000000000000000000.jsonl, line 18): changed",
		"gaps:           seq 20–21 missing (2 entries)\n                seq 30 missing\n",
		"truncation:     DETECTED",
		"problems (25):\n  seq 17: content at segment 00000000000000000000.jsonl, line 18: changed\n",
		"... and 20 more",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "line 23:") {
		t.Errorf("more than 5 problems listed:\n%s", out)
	}
}
