package vectors

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/layout"
)

// RotatedKey returns the i-th key (0, 1, 2) of the rotated vector log.
func RotatedKey(i int) (skey, vkey string) {
	if i == 0 {
		return Key()
	}
	skey, vkey, err := note.GenerateKey(&stream{seed: fmt.Sprintf("sealog vectors rotated key %d", i)}, Origin)
	if err != nil {
		panic(err)
	}
	return skey, vkey
}

// Rotation is rotation.json: the rotated log's expected chain of keys.
type Rotation struct {
	Comment string        `json:"comment"`
	Records []RotationRec `json:"records"`
	Keys    []KeyRange    `json:"keys"`
}

// RotationRec is one rotation record of the rotated log.
type RotationRec struct {
	Seq   uint64 `json:"seq"`
	Event string `json:"event"` // the record's EVENT bytes
	Key   string `json:"key"`
	Prev  string `json:"prev"`
}

// KeyRange is one key of the chain and the entries it signs.
type KeyRange struct {
	Key   string `json:"key"`
	First uint64 `json:"first"`
	Last  uint64 `json:"last"`
}

// writeRotated writes rotated/ (a log whose key is rotated twice),
// rotated.keys (its three verifier keys, one a line, as an auditor keeps
// them) and rotation.json (what a verifier must find).
func writeRotated(dir string) error {
	var ks [3]*sealog.Key
	var vks [3]string
	for i := range ks {
		skey, vkey := RotatedKey(i)
		k, err := sealog.ParseKey(skey)
		if err != nil {
			return err
		}
		ks[i], vks[i] = k, vkey
	}
	logDir := filepath.Join(dir, "rotated")
	if err := os.RemoveAll(logDir); err != nil {
		return err
	}
	t := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { t = t.Add(1_234_567 * time.Nanosecond); return t }
	l, err := sealog.Open(logDir, sealog.Options{Key: ks[0], Clock: clock, Rand: &stream{seed: "sealog vectors rotated salts"}})
	if err != nil {
		return err
	}
	ctx := context.Background()
	seq := 0
	batch := func(n int) error {
		var evs []sealog.Event
		for range n {
			evs = append(evs, sealog.Event{Kind: "doc.read", Actor: fmt.Sprintf("user%d@example.com", seq%3), Payload: map[string]any{"n": seq}})
			seq++
		}
		_, err := l.AppendBatch(ctx, evs)
		return err
	}
	rot := Rotation{Comment: "rotated/: batches of 2 and 3 entries by key 0, the rotation record at seq 5 (alone in its batch, signed by key 0), batches of 2 and 1 by key 1, the rotation record at seq 9, 2 entries by key 2. A verifier given any of the keys reports this chain."}
	rotate := func(i int) error {
		r, err := l.Rotate(ctx, ks[i])
		if err != nil {
			return err
		}
		seq++
		rot.Records = append(rot.Records, RotationRec{Seq: r.Seq, Event: string(format.AppendRotationEvent(nil, vks[i], vks[i-1])), Key: vks[i], Prev: vks[i-1]})
		return nil
	}
	for _, step := range []func() error{
		func() error { return batch(2) }, func() error { return batch(3) }, func() error { return rotate(1) },
		func() error { return batch(2) }, func() error { return batch(1) }, func() error { return rotate(2) },
		func() error { return batch(2) },
	} {
		if err := step(); err != nil {
			l.Close()
			return err
		}
	}
	if err := l.Close(); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(logDir, layout.LockFile)); err != nil {
		return err
	}
	rot.Keys = []KeyRange{{vks[0], 0, 5}, {vks[1], 6, 9}, {vks[2], 10, 11}}
	b, err := json.MarshalIndent(rot, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "rotation.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	keys := "# the verifier keys of rotated/, oldest first: an auditor's trusted keys file\n" + strings.Join(vks[:], "\n") + "\n"
	return os.WriteFile(filepath.Join(dir, "rotated.keys"), []byte(keys), 0o644)
}
