package sealog

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/internal/commit"
	"github.com/sealog/sealog/store"
)

// Append records one event and returns its receipt once the event is
// durable on disk and covered by a signed checkpoint. If ctx is done before
// the event was handed to the log, Append returns ctx.Err() and nothing is
// recorded; if it is done while the commit is under way, Append returns
// early and the event may still be committed.
func (l *Log) Append(ctx context.Context, ev Event) (Receipt, error) {
	p, err := l.Submit(ctx, []Event{ev})
	if err != nil {
		return Receipt{}, err
	}
	var one [1]Receipt // on the stack: no slice allocated for one receipt
	rs, err := p.wait(ctx, one[:0])
	if err != nil {
		return Receipt{}, err
	}
	return rs[0], nil
}

// AppendBatch records several events atomically: after a crash either all
// of them are in the log, consecutively, or none is. It returns one receipt
// per event, in order. A bad event fails the whole call, naming its index,
// and nothing is recorded.
func (l *Log) AppendBatch(ctx context.Context, evs []Event) ([]Receipt, error) {
	if len(evs) == 0 {
		return nil, nil
	}
	return l.submit(ctx, evs)
}

func (l *Log) submit(ctx context.Context, evs []Event) ([]Receipt, error) {
	p, err := l.Submit(ctx, evs)
	if err != nil {
		return nil, err
	}
	return p.Wait(ctx)
}

// Pending is a batch handed to the log by Submit, on its way to the store.
type Pending struct {
	l    *Log
	f    *commit.Future
	n    int
	prep []commit.Event
}

// Submit hands events to the log without waiting for them to be
// committed, and returns at once; Wait returns their receipts. Batches
// submitted one after another by one goroutine are committed in that
// order, so a producer can keep several in flight (one being written and
// fsynced while the next is prepared) and still know their order. Like
// AppendBatch, each Submit is atomic. When Options.MaxPending appends are
// already pending it fails at once with ErrOverloaded.
func (l *Log) Submit(ctx context.Context, evs []Event) (*Pending, error) {
	if l.eng == nil {
		return nil, ErrReadOnly
	}
	if len(evs) == 0 {
		return &Pending{l: l}, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	prep := make([]commit.Event, len(evs))
	if err := l.prepare(evs, prep); err != nil {
		return nil, err
	}
	return l.submitPrepared(ctx, prep, nil)
}

func (l *Log) submitPrepared(ctx context.Context, prep []commit.Event, erase *store.Erasure) (*Pending, error) {
	f, err := l.eng.Submit(ctx, prep, erase)
	if err != nil {
		return nil, l.wrapErr(err)
	}
	return &Pending{l: l, f: f, n: len(prep), prep: prep}, nil
}

// Event returns event i of the batch as the log commits it: its salt and
// its encoding (docs/FORMAT.md §3.2), the "salt" and "event" members of
// its stored line. With its receipt's seq and time, the previous entry's
// leaf hash and, for the last entry of a store batch, the checkpoint's
// signature, they make the stored line byte for byte (format.AppendLine),
// so that a caller that hands lines on need not read them back. The
// bytes are the log's: do not modify them.
func (p *Pending) Event(i int) (salt [format.SaltSize]byte, event []byte) {
	return p.prep[i].Salt, p.prep[i].Event
}

// wrapErr prefixes an engine error, keeping errors.Is working.
func (l *Log) wrapErr(err error) error {
	if errors.Is(err, commit.ErrClosed) {
		return ErrClosed
	}
	return fmt.Errorf("sealog: %w", err)
}

// Done is closed when the batch is committed or has failed.
func (p *Pending) Done() <-chan struct{} {
	if p.f == nil {
		c := make(chan struct{})
		close(c)
		return c
	}
	return p.f.Done()
}

// Wait waits for the batch to be durable and signed and returns one
// receipt per event. If ctx is done first it returns ctx.Err(); the events
// may still be committed.
func (p *Pending) Wait(ctx context.Context) ([]Receipt, error) {
	if p.f == nil {
		return nil, nil
	}
	return p.wait(ctx, make([]Receipt, 0, p.n))
}

// wait is Wait, appending the receipts to rs.
func (p *Pending) wait(ctx context.Context, rs []Receipt) ([]Receipt, error) {
	if p.f == nil {
		return rs, nil
	}
	if d := ctx.Done(); d == nil {
		<-p.f.Done() // a context that is never done: no select
	} else {
		select {
		case <-p.f.Done():
		case <-d:
			return nil, fmt.Errorf("%w (the events were handed to the log and may still be committed)", ctx.Err())
		}
	}
	res, err := p.f.Result()
	if err != nil {
		return nil, p.l.wrapErr(err)
	}
	t := time.Unix(0, res.Time).UTC()
	for i := range p.n {
		seq := res.First + uint64(i)
		r := Receipt{Seq: seq, Time: t, LeafHash: res.Leaves[i], Checkpoint: res.Checkpoint}
		if p.l.opts.ReceiptProofs {
			proof, err := tlog.ProveRecord(int64(res.Size), int64(seq), p.l.HashReader(ctx))
			if err != nil {
				return nil, fmt.Errorf("sealog: entry %d was committed, but its inclusion proof failed: %w", seq, err)
			}
			r.Proof = proof
		}
		rs = append(rs, r)
	}
	return rs, nil
}

// prepare encodes each event, draws its salt and computes its body hash,
// on the caller's goroutine, so that the sequencer does not.
func (l *Log) prepare(evs []Event, out []commit.Event) error {
	var salts []byte // one read for a batch; one event reads into its own buffer
	if len(evs) > 1 {
		salts = make([]byte, len(evs)*format.SaltSize)
		if _, err := io.ReadFull(l.rand, salts); err != nil {
			return fmt.Errorf("sealog: reading random salts: %w", err)
		}
	}
	var buf []byte
	for i := range evs {
		ev, p := &evs[i], &out[i]
		if ev.Kind == EraseKind || ev.Kind == RotateKind {
			what := "erasure records; use Log.Erase"
			if ev.Kind == RotateKind {
				what = "key rotations; use Log.Rotate"
			}
			if len(evs) == 1 {
				return fmt.Errorf("sealog: kind %q is reserved for %s", ev.Kind, what)
			}
			return fmt.Errorf("sealog: event %d: kind %q is reserved for %s", i, ev.Kind, what)
		}
		if ev.Kind == PruneKind {
			return fmt.Errorf("sealog: event %d: kind %q is reserved for prune records; use Log.Prune", i, PruneKind)
		}
		salted, err := l.encodeSalted(ev, i, salts, &buf) // salt || event, so that the body hash is one Sum256
		if err == nil && len(salted)-format.SaltSize > l.opts.MaxEventSize {
			err = fmt.Errorf("event is %d bytes encoded, over the %d-byte limit", len(salted)-format.SaltSize, l.opts.MaxEventSize)
		}
		if err != nil {
			if len(evs) == 1 {
				return fmt.Errorf("sealog: %w", err)
			}
			return fmt.Errorf("sealog: event %d: %w", i, err)
		}
		copy(p.Salt[:], salted)
		p.Event = salted[format.SaltSize:]
		p.Body = sha256.Sum256(salted) // = format.BodyHash(&p.Salt, p.Event)
	}
	return nil
}

// encodeSalted returns salt || the event's encoding: the salt is event i's
// in salts, or read here when salts is nil. A JSON payload (json.RawMessage
// or []byte) is compacted straight into the result; any other is encoded
// into *buf first.
func (l *Log) encodeSalted(ev *Event, i int, salts []byte, buf *[]byte) ([]byte, error) {
	var raw []byte
	isRaw := true
	switch v := ev.Payload.(type) {
	case json.RawMessage:
		raw = v
	case []byte:
		raw = v
	default:
		isRaw = false
		var err error
		if *buf, err = encodePayload((*buf)[:0], ev.Payload); err != nil {
			return nil, err
		}
		raw = *buf // its length sizes the result; it is compact already
	}
	salted := make([]byte, format.SaltSize, format.SaltSize+len(raw)+len(ev.Kind)+len(ev.Actor)+len(ev.Resource)+48)
	if salts != nil {
		copy(salted, salts[i*format.SaltSize:])
	} else if _, err := io.ReadFull(l.rand, salted); err != nil {
		return nil, fmt.Errorf("reading a random salt: %w", err)
	}
	if isRaw {
		return format.AppendEventCompact(salted, ev.Kind, ev.Actor, ev.Resource, raw)
	}
	return format.AppendEvent(salted, ev.Kind, ev.Actor, ev.Resource, raw)
}

// prepareEncoded salts and commits to an event already in its canonical
// encoding (an erasure record, written by format.AppendErasureEvent).
func (l *Log) prepareEncoded(event []byte, out *commit.Event) error {
	if len(event) > l.opts.MaxEventSize {
		return fmt.Errorf("sealog: event is %d bytes encoded, over the %d-byte limit", len(event), l.opts.MaxEventSize)
	}
	salted := make([]byte, format.SaltSize, format.SaltSize+len(event))
	if _, err := io.ReadFull(l.rand, salted); err != nil {
		return fmt.Errorf("sealog: reading a random salt: %w", err)
	}
	salted = append(salted, event...)
	copy(out.Salt[:], salted)
	out.Event = salted[format.SaltSize:]
	out.Body = sha256.Sum256(salted)
	return nil
}

// encodePayload appends the compact JSON object form of a payload.
func encodePayload(dst []byte, p any) ([]byte, error) {
	switch v := p.(type) {
	case nil:
		return append(dst, '{', '}'), nil
	case json.RawMessage:
		return format.CompactPayload(dst, v)
	case []byte:
		return format.CompactPayload(dst, v)
	case string:
		return dst, fmt.Errorf("payload is a Go string; pass a map, a struct or a json.RawMessage")
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		return dst, fmt.Errorf("payload: %w", err)
	}
	out := bytes.TrimRight(b.Bytes(), "\n")
	if len(out) == 0 || out[0] != '{' {
		return dst, fmt.Errorf("payload encodes to %.20s..., not a JSON object", out)
	}
	return append(dst, out...), nil
}
