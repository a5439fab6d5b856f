package compat_test

import (
	"context"
	"fmt"
	"os"

	"github.com/sealog/sealog/compat"
)

// Verify an immutable-logging pair that lost its last two lines: valid on
// its own (nothing in the two files shows the cut), invalid once the verifier
// is given an anchor recorded elsewhere.
func ExampleVerify() {
	log := "../testdata/compat/immutable-logging/tail_truncated/app.log"
	f, err := compat.Detect(log)
	if err != nil {
		fmt.Println(err)
		return
	}
	rep, err := compat.Verify(context.Background(), f, log, compat.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rep.Format, rep.Valid, rep.Records, rep.Warnings)

	anchor, err := compat.ParseAnchor([]byte(`{"entries": 8, "last_sha256": "54a898239871a8d94cead435216d84099683013196a8abbf13c57382ee239641"}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	rep, err = compat.Verify(context.Background(), f, log, compat.Options{Anchor: &anchor})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rep.Valid, *rep.FirstInvalid, rep.Reason)
	// Output:
	// immutable-logging true 6 [unkeyed_hash_rewritable tail_truncation_undetectable]
	// false 6 the anchor recorded 8 records but the log holds 6: records are missing at the end
}

// Walk reads a spanforge chain's records for import, with their verdicts.
func ExampleWalk() {
	data, _ := os.ReadFile("../testdata/compat/spanforge/secret.json")
	trust, _ := compat.ParseTrust(data)
	err := compat.Walk(context.Background(), compat.Spanforge, "../testdata/compat/spanforge/payload_edited/audit.jsonl",
		compat.Options{Trust: trust}, func(r compat.Record) error {
			fmt.Println(r.Index, r.Kind, r.Actor, r.Verified)
			return nil
		})
	fmt.Println(err)
	// Output:
	// 0 llm.trace.span.completed u-1042 true
	// 1 llm.guard.input.blocked u-1042 true
	// 2 llm.cost.token.recorded u-77 false
	// 3 llm.trace.agent.step u-77 true
	// 4 llm.eval.score.recorded u-1042 true
	// 5 llm.trace.span.completed u-1042 true
	// <nil>
}
