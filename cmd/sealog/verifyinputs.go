package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"

	"golang.org/x/mod/sumdb/note"

	"github.com/sealog/sealog/bundle"
	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/internal/strictjson"
	"github.com/sealog/sealog/layout"
)

// The inputs of 'sealog verify' besides the log: trusted checkpoints (a
// saved checkpoint, receipts, a proof file), read strictly and bounded,
// and what is left of a log that lost its metadata.

// readCheckpoints reads trusted checkpoints from a file: a signed
// checkpoint note, a tlog-proof (its checkpoint), or JSON receipts (one
// object per line, or one object) with a "checkpoint" member. A file that
// is none of these, or a checkpoint of another log than origin (when
// known), is an input error that names the file. Line ends changed to
// CRLF and a final newline dropped (mail, tickets) are undone.
//
// The file is recorded in in.
func readCheckpoints(path, origin string, in *inputSet) ([][]byte, error) {
	b, err := in.read("checkpoint", path, maxCheckpointFile)
	if err != nil {
		return nil, ioError("--checkpoint %s: %v", path, pathErr(err))
	}
	t := bytes.TrimSpace(bytes.TrimPrefix(b, []byte("\uFEFF")))
	var out [][]byte
	switch {
	case len(t) == 0:
		return nil, ioError("--checkpoint %s is empty", path)
	case t[0] == '{':
		seen := map[string]bool{}
		docs := bytes.Split(t, []byte("\n"))
		if strictjson.Check(t, reflect.TypeFor[receiptLine]()) == nil {
			docs = [][]byte{t} // one receipt, indented
		}
		for n, line := range docs {
			if line = bytes.TrimSpace(line); len(line) == 0 {
				continue
			}
			var r receiptLine
			if err := strictjson.Unmarshal(line, &r); err != nil {
				return nil, ioError("--checkpoint %s: line %d is not a receipt: %v", path, n+1, err)
			}
			if r.Checkpoint == "" {
				return nil, ioError("--checkpoint %s: line %d: a receipt without a \"checkpoint\" member", path, n+1)
			}
			if !seen[r.Checkpoint] {
				seen[r.Checkpoint] = true
				out = append(out, []byte(r.Checkpoint))
			}
		}
	case bytes.HasPrefix(t, []byte(bundle.InclusionHeader+"\n")):
		p, err := bundle.ParseInclusionProof(checkpoint.Normalize(b))
		if err != nil {
			return nil, ioError("--checkpoint %s: %v", path, err)
		}
		out = [][]byte{p.Checkpoint}
	default:
		out = [][]byte{b}
	}
	for _, ck := range out {
		n, err := checkpoint.ParseNote(checkpoint.Normalize(ck))
		var c checkpoint.Checkpoint
		if err == nil {
			c, err = checkpoint.Parse(n.Text)
		}
		switch {
		case err != nil:
			return nil, ioError("--checkpoint %s is not a signed checkpoint: %v", path, err).
				withHint("give a checkpoint saved with 'sealog checkpoint DIR > FILE', a receipts file or a proof file")
		case origin != "" && c.Origin != origin:
			return nil, ioError("--checkpoint %s is a checkpoint of the log %q, not of this log (%q)", path, c.Origin, origin)
		}
	}
	return out, nil
}

// receiptLine is a receipt as 'sealog append' prints it (and Go's
// sealog.Receipt encodes): read strictly, only for its checkpoint.
type receiptLine struct {
	Seq        uint64          `json:"seq"`
	Time       string          `json:"time"`
	LeafHash   string          `json:"leaf_hash"`
	Checkpoint string          `json:"checkpoint"`
	Proof      json.RawMessage `json:"proof"`
	Line       int             `json:"line"`
}

// maxCheckpointFile bounds a --checkpoint file (receipts can be many).
const maxCheckpointFile = 64 << 20

// logOrigin is the origin a trusted checkpoint must have: the name of the
// key given, or else the log's own.
func logOrigin(dir, key string) string {
	if v, err := note.NewVerifier(key); err == nil {
		return v.Name()
	}
	if m, err := layout.ReadMetadata(dir); err == nil {
		return m.Origin
	}
	return ""
}

// looksDestroyed reports whether path, a directory without sealog.json,
// is what is left of a sealog log that verify was asked to check with a
// key or a checkpoint of its own: then it is verified (and found
// tampered), not taken for some other tool's log.
func looksDestroyed(path string, f *verifyFlags) bool {
	if f.format != "" || len(f.keys) != 1 && len(f.checkpoints) == 0 {
		return false
	}
	if fi, err := os.Stat(path); err != nil || !fi.IsDir() {
		return false
	}
	for _, name := range []string{layout.SegmentsDir, layout.CheckpointFile} {
		if _, err := os.Lstat(filepath.Join(path, name)); err == nil {
			return true
		}
	}
	return len(f.checkpoints) > 0 && len(f.keys) == 1
}
