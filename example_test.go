package sealog_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/store/file"
	"github.com/sealog/sealog/store/memstore"
	"github.com/sealog/sealog/verify"
)

// newLog opens a fresh log in a temporary directory for an example.
func newLog() (*sealog.Log, string, func()) {
	dir, err := os.MkdirTemp("", "sealog-example-")
	if err != nil {
		log.Fatal(err)
	}
	skey, vkey, err := sealog.GenerateKey("example.com/audit")
	if err != nil {
		log.Fatal(err)
	}
	key, err := sealog.ParseKey(skey)
	if err != nil {
		log.Fatal(err)
	}
	l, err := sealog.Open(filepath.Join(dir, "log"), sealog.Options{Key: key})
	if err != nil {
		log.Fatal(err)
	}
	return l, vkey, func() { l.Close(); os.RemoveAll(dir) }
}

// The whole life of a log: create it, record events, close it, and verify
// it with the public key alone.
func Example() {
	dir, _ := os.MkdirTemp("", "sealog-example-")
	defer os.RemoveAll(dir)
	ctx := context.Background()

	skey, vkey, _ := sealog.GenerateKey("example.com/audit") // keep skey secret; give vkey to auditors
	key, _ := sealog.ParseKey(skey)
	l, err := sealog.Open(filepath.Join(dir, "audit"), sealog.Options{Key: key})
	if err != nil {
		log.Fatal(err)
	}
	r, err := l.Append(ctx, sealog.Event{
		Kind:     "user.login",
		Actor:    "alice@example.com",
		Resource: "app/console",
		Payload:  map[string]any{"ip": "203.0.113.9", "mfa": true},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("recorded entry", r.Seq)
	if err := l.Close(); err != nil {
		log.Fatal(err)
	}

	rep, err := verify.Verify(ctx, verify.Dir(filepath.Join(dir, "audit")), verify.Options{Key: vkey})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("valid:", rep.Valid, "entries:", rep.Entries)
	// Output:
	// recorded entry 0
	// valid: true entries: 1
}

func ExampleGenerateKey() {
	skey, vkey, err := sealog.GenerateKey("example.com/audit")
	if err != nil {
		log.Fatal(err)
	}
	key, _ := sealog.ParseKey(skey)
	fmt.Println(key.Origin(), key.VerifierKey() == vkey)
	// Output: example.com/audit true
}

func ExampleWriteKeyFiles() {
	dir, _ := os.MkdirTemp("", "sealog-example-")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "audit.key")
	if _, err := sealog.WriteKeyFiles(path, "example.com/audit"); err != nil {
		log.Fatal(err)
	}
	fi, _ := os.Stat(path)
	fmt.Printf("%s %v\n", filepath.Base(path), fi.Mode().Perm())
	key, err := sealog.LoadKey(path)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(key.Origin())
	_, err = sealog.WriteKeyFiles(path, "example.com/audit")
	fmt.Println(err != nil)
	// Output:
	// audit.key -rw-------
	// example.com/audit
	// true
}

func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "sealog-example-")
	defer os.RemoveAll(dir)
	skey, _, _ := sealog.GenerateKey("example.com/audit")
	key, _ := sealog.ParseKey(skey)
	// Open creates the log when the directory has none, and recovers it
	// after a crash otherwise.
	l, err := sealog.Open(filepath.Join(dir, "audit"), sealog.Options{Key: key, File: file.Options{Compress: true}})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	h, _ := l.Head(context.Background())
	fmt.Println(l.Origin(), h.Size)
	// Output: example.com/audit 0
}

func ExampleLog_Append() {
	l, vkey, done := newLog()
	defer done()
	r, err := l.Append(context.Background(), sealog.Event{Kind: "invoice.approve", Actor: "bob", Resource: "invoice/2026-0042",
		Payload: map[string]any{"amount_eur": 1200}})
	if err != nil {
		log.Fatal(err)
	}
	// The receipt proves the event is in the log; add its inclusion
	// proof and anyone with the public key can check it.
	if err := l.Prove(context.Background(), &r); err != nil {
		log.Fatal(err)
	}
	c, err := verify.VerifyReceipt(r, vkey)
	fmt.Println(r.Seq, c.Size, err)
	// Output: 0 1 <nil>
}

func ExampleLog_AppendBatch() {
	l, _, done := newLog()
	defer done()
	rs, err := l.AppendBatch(context.Background(), []sealog.Event{
		{Kind: "role.grant", Actor: "carol", Resource: "user/dave", Payload: map[string]string{"role": "admin"}},
		{Kind: "role.revoke", Actor: "carol", Resource: "user/erin", Payload: map[string]string{"role": "admin"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(rs), rs[0].Seq, rs[1].Seq, rs[0].Checkpoint == rs[1].Checkpoint)
	// Output: 2 0 1 true
}

func ExampleLog_Entry() {
	l, _, done := newLog()
	defer done()
	l.Append(context.Background(), sealog.Event{Kind: "doc.read", Actor: "alice", Resource: "doc/7", Payload: map[string]int{"page": 3}})
	e, err := l.Entry(context.Background(), 0)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(e.Seq, e.Kind, e.Actor, e.Resource, string(e.Payload))
	// Output: 0 doc.read alice doc/7 {"page":3}
}

func ExampleLog_Entries() {
	l, _, done := newLog()
	defer done()
	ctx := context.Background()
	for _, k := range []string{"a", "b", "c"} {
		l.Append(ctx, sealog.Event{Kind: k})
	}
	for e, err := range l.Entries(ctx, 1, math.MaxUint64) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(e.Seq, e.Kind)
	}
	// Output:
	// 1 b
	// 2 c
}

func ExampleLog_Checkpoint() {
	l, _, done := newLog()
	defer done()
	l.Append(context.Background(), sealog.Event{Kind: "k"})
	c, err := l.Checkpoint(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	// c.Note is the signed C2SP checkpoint: what an auditor saves to
	// detect later truncation or rewriting.
	fmt.Println(c.Origin, c.Size, len(c.Note) > 0)
	// Output: example.com/audit 1 true
}

func ExampleLog_InclusionProof() {
	l, _, done := newLog()
	defer done()
	ctx := context.Background()
	for i := 0; i < 10; i++ {
		l.Append(ctx, sealog.Event{Kind: "k", Payload: map[string]int{"i": i}})
	}
	c, _ := l.Checkpoint(ctx)
	e, _ := l.Entry(ctx, 4)
	p, err := l.InclusionProof(ctx, 4, c.Size)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tlog.CheckRecord(p, int64(c.Size), c.Root, 4, e.LeafHash))
	// Output: <nil>
}

func ExampleLog_ConsistencyProof() {
	l, _, done := newLog()
	defer done()
	ctx := context.Background()
	l.Append(ctx, sealog.Event{Kind: "k"})
	old, _ := l.Checkpoint(ctx) // an auditor saved this earlier
	for i := 0; i < 5; i++ {
		l.Append(ctx, sealog.Event{Kind: "k"})
	}
	now, _ := l.Checkpoint(ctx)
	p, err := l.ConsistencyProof(ctx, old.Size, now.Size)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tlog.CheckTree(p, int64(now.Size), now.Root, int64(old.Size), old.Root))
	// Output: <nil>
}

func ExampleLog_Erase() {
	l, _, done := newLog()
	defer done()
	ctx := context.Background()
	l.Append(ctx, sealog.Event{Kind: "user.signup", Actor: "frank@example.com", Payload: map[string]string{"name": "Frank"}})
	r, err := l.Erase(ctx, 0, "GDPR request 2026-117")
	if err != nil {
		log.Fatal(err)
	}
	e, _ := l.Entry(ctx, 0)
	rec, _ := l.Entry(ctx, r.Seq)
	fmt.Println(e.Erased, e.Actor == "", rec.Kind, rec.Resource)
	// Output: true true sealog.erase entry/0
}

// New opens a log over any store: here an in-memory one that two Logs
// share, as two servers share one database. Each batches its own callers;
// the store orders their batches, and a Log that loses a race re-sequences
// its batch after the winner's.
func ExampleNew() {
	ctx := context.Background()
	skey, _, _ := sealog.GenerateKey("example.com/audit")
	key, _ := sealog.ParseKey(skey)
	db := memstore.NewDB(store.Metadata{Format: "sealog/v1", Origin: key.Origin(), Key: key.VerifierKey()})
	a, err := sealog.New(ctx, db.Open(), sealog.Options{Key: key})
	if err != nil {
		log.Fatal(err)
	}
	defer a.Close()
	b, err := sealog.New(ctx, db.Open(), sealog.Options{Key: key})
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()
	ra, _ := a.Append(ctx, sealog.Event{Kind: "from.a"})
	rb, _ := b.Append(ctx, sealog.Event{Kind: "from.b"})
	h, _ := a.Head(ctx)
	fmt.Println(ra.Seq, rb.Seq, h.Size)
	// Output: 0 1 2
}

func ExampleLog_Head() {
	l, _, done := newLog()
	defer done()
	ctx := context.Background()
	l.AppendBatch(ctx, []sealog.Event{{Kind: "a"}, {Kind: "b"}})
	h, err := l.Head(ctx)
	if err != nil {
		log.Fatal(err)
	}
	// The head's checkpoint is signed by the log's key, checked on read.
	fmt.Println(h.Size, h.Checkpoint.Size)
	// Output: 2 2
}

// Shutdown stops taking appends, drains those in flight and closes the
// store, within a deadline: what a server does on SIGTERM.
func ExampleLog_Shutdown() {
	l, _, done := newLog()
	defer done()
	ctx := context.Background()
	p, err := l.Submit(ctx, []sealog.Event{{Kind: "in.flight"}})
	if err != nil {
		log.Fatal(err)
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := l.Shutdown(sctx); err != nil {
		log.Fatal(err)
	}
	rs, err := p.Wait(ctx) // drained: committed before Shutdown returned
	fmt.Println(len(rs), err)
	_, err = l.Append(ctx, sealog.Event{Kind: "late"})
	fmt.Println(errors.Is(err, sealog.ErrClosed))
	// Output:
	// 1 <nil>
	// true
}

func ExampleLog_Query() {
	dir, _ := os.MkdirTemp("", "sealog-example-")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	skey, _, _ := sealog.GenerateKey("example.com/audit")
	key, _ := sealog.ParseKey(skey)
	l, err := sealog.Open(filepath.Join(dir, "audit"), sealog.Options{Key: key})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	for _, who := range []string{"alice", "bob", "alice"} {
		if _, err := l.Append(ctx, sealog.Event{Kind: "user.login", Actor: who}); err != nil {
			log.Fatal(err)
		}
	}
	// Over PostgreSQL or SQLite the query uses the indexes; over a
	// directory it reads the lines. Either way each entry is proven.
	for e, err := range l.Query(ctx, sealog.Query{Actor: "alice"}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(e.Seq, e.Kind, e.Actor)
	}
	// Output:
	// 0 user.login alice
	// 2 user.login alice
}
