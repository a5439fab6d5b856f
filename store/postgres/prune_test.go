package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/store/open"
	"github.com/sealog/sealog/store/postgres"
	"github.com/sealog/sealog/tree"
	"github.com/sealog/sealog/verify"
)

// prunedPostgres makes a log of 12 batches of 3 in a fresh schema, its
// key rotated after the 4th batch, pruned below entry 20 (at 19, the
// batch end at or below it, past the rotation record at 12). It returns the
// store's DSN with the schema, the keys, and the prune result.
func prunedPostgres(t *testing.T) (d, schema string, ks [2]*sealog.Key, vks [2]string, res sealog.PruneResult, lines map[uint64][]byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d = dsn(t)
	schema = newSchema(t, d)
	for i := range ks {
		skey, vkey := testkit.Keys(fmt.Sprintf("pg-prune-%d", i), testkit.Origin)
		k, err := sealog.ParseKey(skey)
		if err != nil {
			t.Fatal(err)
		}
		ks[i], vks[i] = k, vkey
	}
	st := open(t, d, schema, postgres.Options{Origin: ks[0].Origin(), Key: ks[0].VerifierKey()})
	l, err := sealog.New(ctx, st, sealog.Options{Key: ks[0], Clock: testkit.Clock(time.Second), Rand: testkit.Rand(t.Name())})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 12; i++ {
		if i == 4 {
			if _, err := l.Rotate(ctx, ks[1]); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := l.AppendBatch(ctx, []sealog.Event{{Kind: "a", Payload: map[string]any{"i": i}}, {Kind: "b"}, {Kind: "c", Actor: "x"}}); err != nil {
			t.Fatal(err)
		}
	}
	lines = map[uint64][]byte{}
	for _, seq := range []uint64{0, 18} {
		line, err := st.ReadLine(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		lines[seq] = append([]byte(nil), line.Bytes...)
	}
	if res, err = l.Prune(ctx, 20); err != nil {
		t.Fatal(err)
	}
	// Batches of 3 after a rotation record alone at 12: they end at 3,
	// 6, 9, 12, 13, 16, 19, 22 …; 19 is the batch end at or below 20.
	if res.Below != 19 || res.Record.Seq != 37 {
		t.Fatalf("prune result: below %d, record %d; want 19, 37", res.Below, res.Record.Seq)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return d, schema, ks, vks, res, lines
}

// TestPrune: a PostgreSQL log is pruned at a batch end, past its key
// rotation, in one transaction; reads below the point say ErrPruned, the
// rest read and prove against signed checkpoints, the log reopens and
// goes on, and it verifies from its first key, the pruned range reported.
func TestPrune(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d, schema, ks, vks, res, _ := prunedPostgres(t)
	st := open(t, d, schema, postgres.Options{})
	l, err := sealog.New(ctx, st, sealog.Options{Key: ks[1]})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := l.Entry(ctx, 18); !errors.Is(err, sealog.ErrPruned) {
		t.Fatalf("reading a pruned entry: %v", err)
	}
	if err := st.ReadLines(ctx, 0, 30, func(store.Line) error { return nil }); !errors.Is(err, store.ErrPruned) {
		t.Fatalf("reading lines from 0: %v", err)
	}
	if n, err := l.FirstSeq(ctx); err != nil || n != 19 {
		t.Fatalf("FirstSeq = %d, %v", n, err)
	}
	if _, err := l.Append(ctx, sealog.Event{Kind: "after.prune"}); err != nil {
		t.Fatal(err)
	}
	for _, seq := range []uint64{19, 25, 37, 38} {
		e, err := l.Entry(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		for _, size := range []uint64{22, 39} {
			if seq >= size {
				continue
			}
			ck, err := l.CheckpointAt(ctx, size)
			if err != nil {
				t.Fatal(err)
			}
			p, err := l.InclusionProof(ctx, seq, size)
			if err != nil {
				t.Fatal(err)
			}
			if err := tlog.CheckRecord(p, int64(size), ck.Root, int64(seq), e.LeafHash); err != nil {
				t.Fatalf("entry %d in the signed tree of %d: %v", seq, size, err)
			}
		}
	}
	for _, o := range []verify.Options{{Key: vks[0]}, {Key: vks[1]}, {Key: vks[0], AllSignatures: true}} {
		rep, err := verify.Verify(ctx, storeopen.Source(ctx, st, "postgres"), o)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Valid || rep.Pruned == nil || rep.Pruned.Status != "ok" || rep.Pruned.Below != res.Below || rep.Pruned.Record != 37 || len(rep.Keys) != 2 {
			t.Fatalf("verify: valid %v %s, pruned %+v, keys %+v, problems %+v", rep.Valid, rep.Verdict, rep.Pruned, rep.Keys, rep.Problems)
		}
	} // Pruned again, further: the rotation record pruned the first time
	// comes from the prune state, and the tree hashes kept then still
	// prove what remains.
	again, err := l.Prune(ctx, 30)
	if err != nil || again.Below != 28 {
		t.Fatalf("pruning again below 30: %+v %v; want 28", again, err)
	}
	if p, err := st.Pruned(ctx); err != nil || p.Below != 28 || len(p.Rotations) != 1 {
		t.Fatalf("the prune state after the second prune: %+v %v", p, err)
	}
	e, err := l.Entry(ctx, 30)
	if err != nil {
		t.Fatal(err)
	}
	ck, err := l.CheckpointAt(ctx, 31)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := l.InclusionProof(ctx, 30, 31); err != nil || tlog.CheckRecord(p, 31, ck.Root, 30, e.LeafHash) != nil {
		t.Fatalf("entry 30 in the signed tree of 31 after the second prune: %v", err)
	}
	rep, err := verify.Verify(ctx, storeopen.Source(ctx, st, "postgres"), verify.Options{Key: vks[0]})
	if err != nil || !rep.Valid || rep.Pruned == nil || rep.Pruned.Below != 28 || rep.Pruned.Status != "ok" || len(rep.Keys) != 2 {
		t.Fatalf("verify after the second prune: %v %+v %+v", err, rep.Pruned, rep.Problems)
	}
}

// TestPruneTampered: rows below the prune point put back, the state row
// rewritten to widen the range, or its key chain cut: the verifier says
// where.
func TestPruneTampered(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, ctx context.Context, d, schema string, lines map[uint64][]byte)
		first  uint64
		every  bool // trust both keys (trusting only the first, a chain cut before its first kept record is the wrong-key verdict)
	}{
		{"a row below the prune point re-inserted", func(t *testing.T, ctx context.Context, d, schema string, lines map[uint64][]byte) {
			if err := execSQL(ctx, d, `INSERT INTO `+table(schema, "entries")+` (seq, time_ns, leaf, nodes, line) SELECT 18, 0, leaf, ''::bytea, $1 FROM `+table(schema, "pruned_hashes")+` WHERE seq = 18`, lines[18]); err != nil {
				t.Fatal(err)
			}
		}, 18, false},
		{"the state widened", func(t *testing.T, ctx context.Context, d, schema string, _ map[uint64][]byte) {
			st := open(t, d, schema, postgres.Options{ReadOnly: true})
			defer st.Close()
			p, err := st.Pruned(ctx)
			if err != nil {
				t.Fatal(err)
			}
			const to = 22
			line, err := st.ReadLine(ctx, to-1)
			if err != nil {
				t.Fatal(err)
			}
			e, err := tree.Load(to, store.HashReader(ctx, st))
			if err != nil {
				t.Fatal(err)
			}
			lp := &layout.Pruned{Below: to, Leaf: line.Leaf, Time: p.Time + 3e9, Edge: e.Hashes(), Record: p.Record, Rotations: p.Rotations}
			for i := range lp.Rotations {
				if lp.Rotations[i].Proof, err = tlog.ProveTree(to, 13, store.HashReader(ctx, st)); err != nil {
					t.Fatal(err)
				}
			}
			for _, q := range []string{`DELETE FROM ` + table(schema, "entries") + ` WHERE seq < 22`, `UPDATE ` + table(schema, "pruned") + ` SET below = 22, state = $1`} {
				args := []any{}
				if strings.Contains(q, "$1") {
					args = append(args, lp.Marshal())
				}
				if err := execSQL(ctx, d, q, args...); err != nil {
					t.Fatal(err)
				}
			}
		}, 19, false},
		{"the kept rotation dropped", func(t *testing.T, ctx context.Context, d, schema string, _ map[uint64][]byte) {
			st := open(t, d, schema, postgres.Options{ReadOnly: true})
			defer st.Close()
			p, err := st.Pruned(ctx)
			if err != nil {
				t.Fatal(err)
			}
			lp := &layout.Pruned{Below: p.Below, Leaf: p.Leaf, Time: p.Time, Edge: p.Edge, Record: p.Record}
			if err := execSQL(ctx, d, `UPDATE `+table(schema, "pruned")+` SET state = $1`, lp.Marshal()); err != nil {
				t.Fatal(err)
			}
		}, 19, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			d, schema, _, vks, _, lines := prunedPostgres(t)
			tc.tamper(t, ctx, d, schema, lines)
			st := open(t, d, schema, postgres.Options{ReadOnly: true})
			defer st.Close()
			o := verify.Options{Key: vks[0]}
			if tc.every {
				o.Keys = vks[1:]
			}
			rep, err := verify.Verify(ctx, storeopen.Source(ctx, st, "postgres"), o)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Valid || rep.FirstInvalid == nil || *rep.FirstInvalid != tc.first {
				t.Fatalf("valid %v %s first invalid %v (want %d), problems %+v", rep.Valid, rep.Verdict, rep.FirstInvalid, tc.first, rep.Problems)
			}
		})
	}
}
