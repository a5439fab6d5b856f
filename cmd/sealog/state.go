package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/internal/strictjson"
)

// The --state file of 'sealog verify': the newest checkpoint a run
// verified, so that the next run can prove the log still extends it
// (no rollback, no fork) and check only what was added since.

// stateFormat names the state file's shape.
const stateFormat = "sealog-verify-state/v1"

// maxStateFile bounds a state file.
const maxStateFile = 1 << 20

// stateFile is the --state file's content.
type stateFile struct {
	Format string `json:"format"`
	Origin string `json:"origin"`
	// Key is the verifier key the checkpoint was verified with.
	Key string `json:"key"`
	// Checkpoint is the signed checkpoint note, verbatim.
	Checkpoint string `json:"checkpoint"`
	// Size and Root repeat the checkpoint's, for people.
	Size uint64    `json:"size"`
	Root tlog.Hash `json:"root"`
	// VerifiedAt is when the run that saved it verified the log.
	VerifiedAt string `json:"verified_at"`
	// FullAt is when the entries it covers were last all read (a full
	// verification); incremental runs keep it.
	FullAt string `json:"full_at"`
}

// stateReport is the "state" section of a verify report.
type stateReport struct {
	File string `json:"file"`
	// Result: "saved" (first run: the file did not exist), "consistent"
	// (the log extends the saved checkpoint), "rollback" (the log is
	// smaller than the saved checkpoint), "fork" (the log's tree at the
	// saved size is not the saved one), "unchanged" (same checkpoint), or
	// "not updated" (the log is not valid; the file was left as it was).
	Result string `json:"result"`
	// Mode: "incremental" (only entries from the saved size on were read;
	// the older ones were proven unchanged in the tree by the saved
	// root) or "full" (every entry was read).
	Mode string `json:"mode"`
	// Saved is the checkpoint the file held before this run (nil on the
	// first run); Current the log's newest verified checkpoint now.
	Saved   *stateCheckpoint `json:"saved"`
	Current *stateCheckpoint `json:"current"`
	// Proof is the consistency proof from Saved to Current (RFC 6962,
	// tlog.ProveTree order), from the log's stored tree hashes; ProofOK
	// says it verifies against both checkpoints.
	Proof   []tlog.Hash `json:"consistency_proof"`
	ProofOK bool        `json:"consistency_proof_ok"`
	// ProofError says why no proof could be made (the stored hashes
	// could not be read); the verdict does not depend on it.
	ProofError string `json:"consistency_proof_error,omitempty"`
	// Updated says the file now holds Current.
	Updated bool `json:"updated"`
	// NotReread is the number of entries not read again in incremental
	// mode (the saved size), and FullAt when they were last all read.
	NotReread uint64 `json:"entries_not_reread"`
	FullAt    string `json:"full_at,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// stateCheckpoint is a checkpoint in a state report.
type stateCheckpoint struct {
	Size uint64    `json:"size"`
	Root tlog.Hash `json:"root"`
	Note string    `json:"note"`
}

func (s *stateReport) writeText(bw io.Writer, p func(label, format string, args ...any)) {
	p("state:", "%s (%s, %s)", s.File, s.Result, s.Mode)
	if s.Saved != nil {
		p("", "saved:   size %d, root %s", s.Saved.Size, s.Saved.Root)
	}
	if s.Current != nil {
		p("", "current: size %d, root %s", s.Current.Size, s.Current.Root)
	}
	switch {
	case s.Saved == nil || s.Current == nil:
	case s.ProofError != "":
		p("", "consistency proof: none (%s)", s.ProofError)
	case s.ProofOK:
		p("", "consistency proof (%d hashes) verifies", len(s.Proof))
	default:
		p("", "consistency proof (%d hashes) does NOT verify", len(s.Proof))
	}
	if s.Mode == "incremental" && s.NotReread > 0 {
		p("", "entries 0 to %d not read again (all read on %s; --full reads them)", s.NotReread-1, s.FullAt)
	}
	if s.Reason != "" {
		p("", "%s", s.Reason)
	}
	if s.Updated {
		p("", "updated: the file now holds the current checkpoint")
	} else {
		p("", "not updated")
	}
}

// loadState reads the state file at path; nil, nil if it does not exist
// (a first run). The checkpoint in it must be a checkpoint of the log
// named by origin (when known).
func loadState(path, origin string, in *inputSet) (*stateFile, error) {
	b, err := in.read("state", path, maxStateFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, ioError("--state %s: %v", path, pathErr(err))
	}
	var st stateFile
	if err := strictjson.Unmarshal(b, &st); err != nil {
		return nil, ioError("--state %s is not a sealog state file: %v", path, err).
			withHint("give a file written by 'sealog verify --state', or a new path for a first run")
	}
	if st.Format != stateFormat {
		return nil, ioError("--state %s: format %q, want %q", path, st.Format, stateFormat)
	}
	n, err := checkpoint.ParseNote([]byte(st.Checkpoint))
	var c checkpoint.Checkpoint
	if err == nil {
		c, err = checkpoint.Parse(n.Text)
	}
	switch {
	case err != nil:
		return nil, ioError("--state %s: its checkpoint is not a signed checkpoint: %v", path, err)
	case c.Size != st.Size || c.Root != st.Root || c.Origin != st.Origin:
		return nil, ioError("--state %s: its size, root or origin disagree with its checkpoint", path)
	case origin != "" && c.Origin != origin:
		return nil, ioError("--state %s is the state of the log %q, not of this log (%q)", path, c.Origin, origin)
	}
	return &st, nil
}

// saveState writes st to path atomically: a temporary file in the same
// directory, synced, renamed into place, the directory synced.
func saveState(path string, st *stateFile) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename, nothing is there
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// newState is the state to save for a verified checkpoint note.
func newState(ckNote []byte, v note.Verifier, vkey string, at time.Time, fullAt string) (*stateFile, error) {
	c, _, err := checkpoint.Verify(ckNote, v, v.Name())
	if err != nil {
		return nil, err
	}
	return &stateFile{Format: stateFormat, Origin: c.Origin, Key: vkey, Checkpoint: string(ckNote),
		Size: c.Size, Root: c.Root, VerifiedAt: at.UTC().Format(time.RFC3339), FullAt: fullAt}, nil
}

// savedCheckpoint parses the state's checkpoint (loadState checked it).
func (st *stateFile) checkpoint() *stateCheckpoint {
	return &stateCheckpoint{Size: st.Size, Root: st.Root, Note: st.Checkpoint}
}

// sameNote compares two checkpoint notes after normalising line ends.
func sameNote(a, b []byte) bool {
	return bytes.Equal(checkpoint.Normalize(a), checkpoint.Normalize(b))
}

// proveConsistency returns the consistency proof from old to cur from
// the log's stored hashes and whether it verifies, or why none could be
// made (a log smaller than old has none; its hashes may be unreadable).
func proveConsistency(ctx context.Context, tr treeReader, old, cur *stateCheckpoint) ([]tlog.Hash, bool, string) {
	if old.Size > cur.Size {
		return []tlog.Hash{}, false, fmt.Sprintf("the log (size %d) is smaller than the saved checkpoint", cur.Size)
	}
	if old.Size == cur.Size {
		return []tlog.Hash{}, old.Root == cur.Root, ""
	}
	p, err := tr.ConsistencyProof(ctx, old.Size, cur.Size)
	if err != nil {
		return []tlog.Hash{}, false, "the log's stored tree hashes could not be read: " + trimSealog(err)
	}
	if p == nil {
		p = tlog.TreeProof{}
	}
	return p, tlog.CheckTree(p, int64(cur.Size), cur.Root, int64(old.Size), old.Root) == nil, ""
}

// treeReader is what a consistency proof needs of a log.
type treeReader interface {
	ConsistencyProof(ctx context.Context, oldSize, newSize uint64) (tlog.TreeProof, error)
}

// describeState fills in the state section from a full verification's
// verdict on the saved checkpoint (given as the last trusted checkpoint).
func describeState(s *stateReport, status string) {
	switch status {
	case "ok":
		s.Result = "consistent"
	case "beyond the log":
		s.Result = "rollback"
		s.Reason = fmt.Sprintf("ROLLBACK: the log holds fewer entries than the saved checkpoint (size %d) covers", s.Saved.Size)
	case "root mismatch":
		s.Result = "fork"
		s.Reason = fmt.Sprintf("FORK: the log's first %d entries are not those of the saved checkpoint", s.Saved.Size)
	default:
		s.Result = "not checked"
		s.Reason = "the saved checkpoint could not be checked: " + status
	}
}
