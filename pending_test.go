package sealog

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/sealog/sealog/format"
)

// TestPendingEventRebuildsLines: each event's salt and encoding, with its
// receipt's seq and time and the previous leaf (and the checkpoint's
// signature on a batch's last entry), rebuild the stored line byte for
// byte, for batches submitted one at a time and several at once.
func TestPendingEventRebuildsLines(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l := openTest(t, filepath.Join(t.TempDir(), "log"), testKey(t))
	defer l.Close()
	var pending []*Pending
	for i, n := range []int{1, 2, 7, 3, 1} {
		evs := make([]Event, n)
		for j := range evs {
			evs[j] = Event{Kind: "test.event", Actor: fmt.Sprintf("a%d", i), Payload: json.RawMessage(fmt.Sprintf(`{"j": %d}`, j))}
		}
		p, err := l.Submit(ctx, evs)
		if err != nil {
			t.Fatal(err)
		}
		pending = append(pending, p)
	}
	for _, p := range pending {
		rs, err := p.Wait(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range rs {
			stored, err := l.Store().ReadLine(ctx, r.Seq)
			if err != nil {
				t.Fatal(err)
			}
			want, err := format.ParseLine(stored.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			line := format.Line{Seq: r.Seq, Time: r.Time.UnixNano(), Prev: want.Prev, Sig: want.Sig}
			line.Salt, line.Event = p.Event(i)
			if got := format.AppendLine(nil, &line); string(got) != string(stored.Bytes)+"\n" {
				t.Errorf("entry %d: rebuilt\n%s\nstored\n%s", r.Seq, got, stored.Bytes)
			}
			if h := line.Header(); h.LeafHash() != r.LeafHash {
				t.Errorf("entry %d: the rebuilt line does not hash to the receipt's leaf", r.Seq)
			}
		}
	}
}
