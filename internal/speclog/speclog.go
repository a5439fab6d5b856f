// Package speclog writes sealog logs from docs/FORMAT.md alone, without
// the writer (package sealog and its stores): entry lines, batch
// signatures, checkpoints, erasures and segment files, byte for byte as
// the format says, with deterministic keys, salts and times. Tests of the
// verifiers use it to build exactly the log a case needs — genuine ones,
// and the forgeries an attacker who can write the files but does not hold
// the key could make — and it keeps them independent of the writer's API.
package speclog

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"

	"github.com/klauspost/compress/zstd"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/tree"
)

// Log is a log being built in memory.
type Log struct {
	Origin string
	Signer note.Signer
	VKey   string // the verifier key (the newest, after Rotate)
	// VKeys is the chain of keys, oldest first: sealog.json names the
	// first.
	VKeys []string
	// Lines holds each entry's line, newline-terminated.
	Lines [][]byte
	// Leaves holds each entry's leaf hash.
	Leaves []tlog.Hash
	// Notes maps the size at the end of each batch to its signed
	// checkpoint.
	Notes map[uint64][]byte
	// Ends lists the sizes at the end of each batch, in order.
	Ends []uint64

	seed   string
	n      uint64 // deterministic salts
	time   int64
	edge   tree.Edge
	hashes []tlog.Hash // stored hashes, for proofs
	bodies []format.Hash
}

// Keys returns a deterministic key pair for origin from seed.
func Keys(seed, origin string) (note.Signer, string) {
	h := sha256.Sum256([]byte("speclog key " + seed))
	priv := ed25519.NewKeyFromSeed(h[:])
	pub := append([]byte{1}, priv.Public().(ed25519.PublicKey)...)
	kh := sha256.Sum256(append([]byte(origin+"\n"), pub...))
	hash := binary.BigEndian.Uint32(kh[:4])
	skey := fmt.Sprintf("PRIVATE+KEY+%s+%08x+%s", origin, hash, base64.StdEncoding.EncodeToString(append([]byte{1}, h[:]...)))
	vkey := fmt.Sprintf("%s+%08x+%s", origin, hash, base64.StdEncoding.EncodeToString(pub))
	s, err := note.NewSigner(skey)
	if err != nil {
		panic(err)
	}
	return s, vkey
}

// New starts an empty log of origin whose key and salts come from seed.
func New(seed, origin string) *Log {
	s, v := Keys(seed, origin)
	return &Log{Origin: origin, Signer: s, VKey: v, VKeys: []string{v}, Notes: map[uint64][]byte{}, seed: seed, time: 1795251600 * 1e9}
}

// Rotate hands the log over to the key made from seed as the writer does
// (docs/FORMAT.md section 5a): a rotation record alone in its batch,
// signed by the current key; later batches are signed by the new one.
func (l *Log) Rotate(seed string) {
	s, v := Keys(seed, l.Origin)
	l.AppendEvents(format.AppendRotationEvent(nil, v, l.VKey))
	l.Signer, l.VKey, l.VKeys = s, v, append(l.VKeys, v)
}

// SetTime makes ns the time of the next entry; later ones follow it.
func (l *Log) SetTime(ns int64) { l.time = ns - 1234567 }

// Size is the number of entries.
func (l *Log) Size() uint64 { return uint64(len(l.Lines)) }

// Event returns a deterministic event for entry seq.
func Event(seq uint64) []byte {
	b, err := format.AppendEvent(nil, "doc.read", fmt.Sprintf("user%d@example.com", seq%5), fmt.Sprintf("doc/%d", seq),
		fmt.Appendf(nil, `{"n":%d,"note":"a \"q\"\n"}`, seq))
	if err != nil {
		panic(err)
	}
	return b
}

// Append appends a batch of n entries with deterministic events and signs
// it.
func (l *Log) Append(n int) {
	evs := make([][]byte, n)
	for i := range evs {
		evs[i] = Event(l.Size() + uint64(i))
	}
	l.AppendEvents(evs...)
}

// AppendEvents appends one batch holding the events (compact event
// objects, as format.AppendEvent writes them) and signs it.
func (l *Log) AppendEvents(events ...[]byte) { l.appendEvents(true, events) }

// AppendUnsigned appends entries that no signature covers: the unfinished
// batch that a writer's crash leaves, or entries someone without the key
// added.
func (l *Log) AppendUnsigned(events ...[]byte) { l.appendEvents(false, events) }

func (l *Log) appendEvents(sign bool, events [][]byte) {
	for i, ev := range events {
		l.time += 1234567
		var salt [format.SaltSize]byte
		h := sha256.Sum256(fmt.Appendf(nil, "speclog salt %s %d", l.seed, l.n))
		l.n++
		copy(salt[:], h[:])
		ln := format.Line{Seq: l.Size(), Time: l.time, Prev: l.prevLeaf(), Salt: salt, Event: ev}
		l.add(&ln, format.BodyHash(&salt, ev), sign && i == len(events)-1)
	}
}

func (l *Log) prevLeaf() tlog.Hash {
	if len(l.Leaves) == 0 {
		return tlog.Hash{}
	}
	return l.Leaves[len(l.Leaves)-1]
}

func (l *Log) add(ln *format.Line, body format.Hash, last bool) {
	hd := format.Header{Seq: ln.Seq, Time: ln.Time, Prev: ln.Prev, BodyHash: body}
	leaf := hd.LeafHash()
	l.hashes = append(l.hashes, l.edge.Append(leaf, nil)...)
	l.Leaves = append(l.Leaves, leaf)
	l.bodies = append(l.bodies, body)
	if last {
		c := checkpoint.Checkpoint{Origin: l.Origin, Size: l.Size() + 1, Root: l.edge.Root()}
		sig, err := checkpoint.SignText(c.Text(), l.Signer)
		if err != nil {
			panic(err)
		}
		ln.Sig = sig
		l.Notes[c.Size] = checkpoint.Assemble(c.Text(), l.Signer.Name(), sig)
		l.Ends = append(l.Ends, c.Size)
	}
	l.Lines = append(l.Lines, format.AppendLine(nil, ln))
}

// BodyHash returns entry seq's body hash.
func (l *Log) BodyHash(seq uint64) format.Hash { return l.bodies[seq] }

// Erase erases entry seq as the writer does: it appends the erasure record
// (a batch of its own, signed) and puts entry seq in its erased form.
func (l *Log) Erase(seq uint64, reason string) {
	l.AppendEvents(format.AppendErasureEvent(nil, seq, l.bodies[seq], "", reason))
	l.EraseLine(seq)
}

// EraseLine puts entry seq in its erased form without any record, as
// someone who can write the files could.
func (l *Log) EraseLine(seq uint64) {
	ln, err := format.ParseLine(bytes.TrimSuffix(l.Lines[seq], []byte("\n")))
	if err != nil {
		panic(err)
	}
	e := format.Line{Seq: ln.Seq, Time: ln.Time, Prev: ln.Prev, Erased: true, BodyHash: l.bodies[seq], Sig: ln.Sig}
	l.Lines[seq] = format.AppendLine(nil, &e)
}

// Checkpoint returns the signed checkpoint of the newest batch.
func (l *Log) Checkpoint() []byte { return l.Notes[l.Ends[len(l.Ends)-1]] }

// InclusionProof returns entry seq's inclusion proof in the tree of size.
func (l *Log) InclusionProof(seq, size uint64) tlog.RecordProof {
	p, err := tlog.ProveRecord(int64(size), int64(seq), tlog.HashReaderFunc(l.readHashes))
	if err != nil {
		panic(err)
	}
	return p
}

// ConsistencyProof returns the proof that the tree of size old is a prefix
// of the tree of size new.
func (l *Log) ConsistencyProof(old, new uint64) tlog.TreeProof {
	p, err := tlog.ProveTree(int64(new), int64(old), tlog.HashReaderFunc(l.readHashes))
	if err != nil {
		panic(err)
	}
	return p
}

func (l *Log) readHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		out[i] = l.hashes[x]
	}
	return out, nil
}

// WriteOptions say how Write lays the log out.
type WriteOptions struct {
	// SegmentEntries starts a new segment at the first batch that begins
	// at or after that many entries in the current one; 0 means one
	// segment.
	SegmentEntries int
	// Compress stores every segment but the last zstd-compressed.
	Compress bool
	// NoCheckpoint leaves out the checkpoint file.
	NoCheckpoint bool
}

// Write writes the log to dir (created) as the writer would lay it out.
func (l *Log) Write(dir string, o WriteOptions) error {
	sd := filepath.Join(dir, layout.SegmentsDir)
	if err := os.MkdirAll(sd, 0o755); err != nil {
		return err
	}
	meta := fmt.Sprintf("{\n  \"format\": %q,\n  \"origin\": %q,\n  \"key\": %q,\n  \"created\": \"2026-11-21T09:00:00Z\"\n}\n", layout.FormatName, l.Origin, l.VKeys[0])
	if err := os.WriteFile(filepath.Join(dir, layout.MetadataFile), []byte(meta), 0o644); err != nil {
		return err
	}
	if !o.NoCheckpoint && len(l.Ends) > 0 {
		if err := os.WriteFile(filepath.Join(dir, layout.CheckpointFile), l.Checkpoint(), 0o644); err != nil {
			return err
		}
	}
	type seg struct {
		first uint64
		data  []byte
	}
	var segs []seg
	start, inSeg := uint64(0), 0
	cur := seg{}
	for _, end := range l.Ends {
		if o.SegmentEntries > 0 && inSeg >= o.SegmentEntries {
			segs = append(segs, cur)
			cur, inSeg = seg{first: start}, 0
		}
		for s := start; s < end; s++ {
			cur.data = append(cur.data, l.Lines[s]...)
		}
		inSeg += int(end - start)
		start = end
	}
	for s := start; s < l.Size(); s++ { // entries after the last signature
		cur.data = append(cur.data, l.Lines[s]...)
	}
	segs = append(segs, cur)
	for i, s := range segs {
		if o.Compress && i < len(segs)-1 {
			enc, _ := zstd.NewWriter(nil)
			z := enc.EncodeAll(s.data, nil)
			enc.Close()
			if err := os.WriteFile(filepath.Join(sd, layout.SegmentName(s.first, true)), z, 0o644); err != nil {
				return err
			}
			continue
		}
		if err := os.WriteFile(filepath.Join(sd, layout.SegmentName(s.first, false)), s.data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
