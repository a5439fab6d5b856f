package bundle

import (
	"context"
	"fmt"
	"sort"

	"github.com/sealog/sealog/format"
)

// An erased entry is evidence of nothing unless the log's writer erased
// it: anyone who can write the log's files can put an entry in its erased
// form, since the leaf hash does not change. So a bundle that holds an
// erased entry also holds the erasure record that names it (its seq and
// body hash; docs/FORMAT.md section 5), proven like every other entry, and
// a verifier rejects an erased entry without one (docs/BUNDLE.md).

// addErasureRecords adds to b, for each erased entry it holds, the
// erasure record that names it, found in l after it and below size.
func (b *Bundle) addErasureRecords(ctx context.Context, l Source, size uint64) error {
	want := map[uint64]format.Hash{} // erased seq -> body hash
	from := size
	for _, e := range b.Entries {
		ln, err := format.ParseLine([]byte(e.Line))
		if err != nil || !ln.Erased {
			continue
		}
		want[e.Seq] = ln.BodyHash
		from = min(from, e.Seq+1)
	}
	if len(want) == 0 {
		return nil
	}
	have := map[uint64]bool{}
	for _, e := range b.Entries {
		have[e.Seq] = true
	}
	var add []uint64
	for en, err := range l.Entries(ctx, from, size) {
		if err != nil {
			return err
		}
		if en.Erased {
			continue
		}
		ln, err := format.ParseLine(en.Line)
		if err != nil {
			return fmt.Errorf("entry %d: %w", en.Seq, err)
		}
		r, ok := format.ParseErasure(ln.Event)
		if h, erased := want[r.Seq]; ok && erased && h == r.BodyHash && r.Seq < en.Seq {
			delete(want, r.Seq)
			if !have[en.Seq] {
				add = append(add, en.Seq)
			}
		}
		if len(want) == 0 {
			break
		}
	}
	for seq := range want {
		return fmt.Errorf("entry %d is erased, but no erasure record in the tree of size %d names it, so its erasure cannot be proven against that checkpoint (erased after it? use a later checkpoint; otherwise the log was tampered with)", seq, size)
	}
	for _, seq := range add {
		e, err := b.entry(ctx, l, seq, size)
		if err != nil {
			return err
		}
		b.Entries = append(b.Entries, e)
	}
	sort.Slice(b.Entries, func(i, j int) bool { return b.Entries[i].Seq < b.Entries[j].Seq })
	if len(b.Entries) > MaxEntries {
		return fmt.Errorf("%d entries with their erasure records: a bundle holds at most %d", len(b.Entries), MaxEntries)
	}
	return nil
}

// checkErasures reports each erased entry of the bundle that no erasure
// record in it names: the problem to record for it, by seq.
func (b *Bundle) checkErasures(results []EntryResult) map[uint64]string {
	records := map[uint64]format.Hash{} // named seq -> body hash, from live records
	for i, e := range b.Entries {
		if results[i].Problem != "" || results[i].Erased {
			continue
		}
		ln, err := format.ParseLine([]byte(e.Line))
		if err != nil {
			continue
		}
		if r, ok := format.ParseErasure(ln.Event); ok && r.Seq < e.Seq {
			records[r.Seq] = r.BodyHash
		}
	}
	out := map[uint64]string{}
	for i, e := range b.Entries {
		if !results[i].Erased || results[i].Problem != "" {
			continue
		}
		ln, _ := format.ParseLine([]byte(e.Line))
		if h, ok := records[e.Seq]; !ok || h != ln.BodyHash {
			out[e.Seq] = "it is erased, but the bundle holds no erasure record that names it (seq and body hash): nothing shows that the log's writer erased it"
		}
	}
	return out
}
