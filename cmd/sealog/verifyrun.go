package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/verify"
)

// sealogRun is one 'sealog verify' of a sealog log: the verification,
// and the --state file around it.
type sealogRun struct {
	e   *env
	f   *verifyFlags
	dir string // the log as given (a directory)
	// src is where the verifier reads the log; openLog opens it read-only
	// as a Log, for the incremental check, proofs and checkpoints. Both
	// read the directory dir; another kind of source (a database URL)
	// sets its own.
	src     verify.Source
	openLog func() (*sealog.Log, error)
	opts    verify.Options
	saved   *stateFile   // the state file's content; nil without --state or on a first run
	state   *stateReport // the report's state section; nil without --state
	started time.Time
	// current is the newest checkpoint note the run verified (to save).
	current []byte
}

// verify runs the verification: incrementally from the saved state when
// it can, else in full. from names the file of each trusted checkpoint.
func (r *sealogRun) verify(from []string) (*verify.Report, error) {
	if r.f.state != "" {
		r.state = &stateReport{File: r.f.state, Mode: "full", Result: "saved", Proof: []tlog.Hash{}}
	}
	vkey, v, err := r.key()
	if err != nil {
		return nil, err
	}
	if r.saved != nil {
		if r.saved.Key != vkey {
			return nil, ioError("--state %s was saved with another verifier key (%s) than the one in use (%s)", r.f.state, r.saved.Key, vkey).
				withHint("verify with the key the state was saved with, or start a new state file")
		}
		// The state file is evidence only if the key signed its checkpoint.
		if c, _, err := checkpoint.Verify(checkpoint.Normalize([]byte(r.saved.Checkpoint)), v, v.Name()); err != nil || c.Size != r.saved.Size || c.Root != r.saved.Root {
			return nil, ioError("--state %s: its checkpoint is not a checkpoint signed by the key %s", r.f.state, v.Name()).
				withHint("the state file was changed, or saved for another log; start a new one (a full verification)")
		}
		r.state.Saved = r.saved.checkpoint()
		if !r.f.full {
			if rep, ok := r.incremental(v, vkey); ok {
				return rep, nil
			}
		}
		r.opts.Checkpoints = append(r.opts.Checkpoints, []byte(r.saved.Checkpoint))
	}
	var prog *progress
	if r.e.stderrTTY && !r.f.asJSON && !r.f.quiet && !r.f.noProgress {
		prog = newProgress(r.e.stderr, "verifying")
		r.opts.Progress = prog.update
	}
	rep, err := verify.Verify(r.e.ctx, r.src, r.opts)
	prog.finish()
	if err != nil {
		return nil, r.verifyError(err, from)
	}
	if r.saved != nil {
		st := rep.Trusted[len(rep.Trusted)-1]
		rep.Trusted[len(rep.Trusted)-1].Source = "state file"
		describeState(r.state, st.Status)
	}
	if r.state != nil && rep.Valid && rep.Checkpoint != nil {
		r.current = r.noteAt(rep.Checkpoint.Size, v)
	}
	switch {
	case r.state != nil && r.current != nil:
		r.state.Current = noteCheckpoint(r.current)
		r.fillProof()
		if r.saved != nil && r.state.Result == "consistent" && sameNote(r.current, []byte(r.saved.Checkpoint)) {
			r.state.Result = "unchanged"
		}
	case r.saved != nil && (r.state.Result == "rollback" || r.state.Result == "fork"):
		// The evidence: the log's own signed checkpoint now, next to the
		// saved one, and the proof that fails between them.
		if b, err := r.src.Checkpoint(); err == nil && b != nil {
			if _, _, err := checkpoint.Verify(checkpoint.Normalize(b), v, v.Name()); err == nil {
				r.state.Current = noteCheckpoint(b)
				r.fillProof()
			}
		}
	}
	return rep, nil
}

// key returns the verifier key in use: the one given, or the log's.
func (r *sealogRun) key() (string, note.Verifier, error) {
	vkey := r.opts.Key
	if vkey == "" {
		_, k, err := r.src.Metadata()
		if err != nil {
			return "", nil, ioError("%s: the log's key: %v", r.dir, err)
		}
		vkey = k
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return "", nil, ioError("the verifier key is malformed: %v", err)
	}
	return vkey, v, nil
}

// incremental tries the incremental check from the saved state.
func (r *sealogRun) incremental(v note.Verifier, vkey string) (*verify.Report, bool) {
	l, err := r.openLog()
	if err != nil {
		r.state.Reason = fmt.Sprintf("incremental check not possible (%v); every entry was read", trimSealog(err))
		return nil, false
	}
	defer l.Close()
	rep, cur, why, ok := incremental(r.e.ctx, l, v, vkey, r.saved)
	if !ok {
		r.state.Reason = "incremental check did not hold (" + why + "); every entry was read"
		return nil, false
	}
	rep.KeyFromLog = r.opts.Key == ""
	rep.Live = r.src.Live()
	r.current = cur
	r.state.Mode = "incremental"
	r.state.Current = noteCheckpoint(cur)
	r.state.NotReread = r.saved.Size
	r.state.FullAt = r.saved.FullAt
	r.state.Result = "consistent"
	if sameNote(cur, []byte(r.saved.Checkpoint)) {
		r.state.Result = "unchanged"
	}
	r.fillProofFrom(l)
	return rep, true
}

// fillProof adds the consistency proof from the saved checkpoint to the
// current one, from the log's stored hashes.
func (r *sealogRun) fillProof() {
	if r.saved == nil || r.state.Current == nil {
		return
	}
	if r.saved.Size == r.state.Current.Size {
		r.state.Proof, r.state.ProofOK, r.state.ProofError = proveConsistency(r.e.ctx, nil, r.state.Saved, r.state.Current)
		return
	}
	l, err := r.openLog()
	if err != nil {
		r.state.Proof, r.state.ProofError = []tlog.Hash{}, "the log cannot be opened to read its stored tree hashes: "+trimSealog(err)
		return
	}
	defer l.Close()
	r.fillProofFrom(l)
}

func (r *sealogRun) fillProofFrom(l *sealog.Log) {
	if r.saved == nil || r.state.Current == nil {
		return
	}
	p, ok, why := proveConsistency(r.e.ctx, l, r.state.Saved, r.state.Current)
	r.state.Proof, r.state.ProofOK, r.state.ProofError = proofHashes(p), ok, why
}

// noteAt returns the log's signed checkpoint note at size, checked with
// v, or nil.
func (r *sealogRun) noteAt(size uint64, v note.Verifier) []byte {
	b, err := r.src.Checkpoint() // the log's checkpoint file: read without blocking
	if c := noteCheckpoint(b); err != nil || c == nil || c.Size != size {
		l, err := r.openLog()
		if err != nil {
			return nil
		}
		defer l.Close()
		ck, err := l.CheckpointAt(r.e.ctx, size)
		if err != nil {
			return nil
		}
		b = ck.Note
	}
	if _, err := newState(b, v, "", r.started, ""); err != nil {
		return nil
	}
	return b
}

// updateState saves the current checkpoint in the state file if the log
// is valid, and says in the report whether it did.
func (r *sealogRun) updateState(rep *verify.Report) error {
	if r.state == nil {
		return nil
	}
	if !rep.Valid || r.current == nil {
		if r.saved == nil {
			r.state.Result = "not saved"
		} else if r.state.Result == "consistent" || r.state.Result == "unchanged" {
			r.state.Result = "not updated"
		}
		if r.state.Reason == "" {
			r.state.Reason = "the log is not valid: the state file was left as it was"
		}
		return nil
	}
	vkey, v, err := r.key()
	if err != nil {
		return err
	}
	fullAt := r.started.UTC().Format(time.RFC3339)
	if r.state.Mode == "incremental" {
		fullAt = r.saved.FullAt
	}
	st, err := newState(r.current, v, vkey, r.started, fullAt)
	if err != nil {
		return ioError("--state %s: %v", r.f.state, err)
	}
	if err := saveState(r.f.state, st); err != nil {
		return ioError("--state %s: writing it: %v", r.f.state, pathErr(err)).withHint("the log verified; the state file was left as it was")
	}
	r.state.Updated = true
	return nil
}

// verifyError turns an error of verify.Verify into a CLI error.
func (r *sealogRun) verifyError(err error, from []string) error {
	var ie *verify.InputError
	switch {
	case r.e.ctx.Err() != nil:
		return ioError("interrupted")
	case errors.As(err, &ie) && strings.HasPrefix(ie.What, "trusted checkpoint "):
		n, _ := strconv.Atoi(strings.TrimPrefix(ie.What, "trusted checkpoint "))
		if n >= 1 && n <= len(from) {
			return ioError("--checkpoint %s: %v", from[n-1], ie.Err)
		}
		if n == len(from)+1 && r.saved != nil {
			return ioError("--state %s: %v", r.f.state, ie.Err)
		}
		return ioError("%v", err)
	case errors.Is(err, layout.ErrNotLog):
		return ioError("%s is not a sealog log: %v", r.dir, err).withHint("create one with 'sealog init %s --key FILE'", r.dir)
	}
	return ioError("%s: %v", r.dir, err)
}

// proofHashes returns p, never nil (the report shows [], not null).
func proofHashes(p []tlog.Hash) []tlog.Hash {
	if p == nil {
		return []tlog.Hash{}
	}
	return p
}

// noteCheckpoint parses a checkpoint note (unverified) for a report, or
// returns nil.
func noteCheckpoint(b []byte) *stateCheckpoint {
	if b == nil {
		return nil
	}
	n, err := checkpoint.ParseNote(checkpoint.Normalize(b))
	if err != nil {
		return nil
	}
	c, err := checkpoint.Parse(n.Text)
	if err != nil {
		return nil
	}
	return &stateCheckpoint{Size: c.Size, Root: c.Root, Note: string(b)}
}

// strictProblems says why --strict does not hold: the key must be given,
// and no trust input may come from inside the log's directory (where
// whoever can rewrite the log can rewrite it too).
func strictProblems(f *verifyFlags, dir, key string, in *inputSet) []string {
	if !f.strict {
		return nil
	}
	var out []string
	if key == "" {
		out = append(out, "no --key: the key would come from the log itself")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return append(out, err.Error())
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	for _, x := range in.inputs() {
		if x.Path == "" {
			continue
		}
		p, err := filepath.Abs(x.Path)
		if err != nil {
			continue
		}
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		if rel, err := filepath.Rel(abs, p); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			out = append(out, fmt.Sprintf("the %s input %s is inside the log's directory", x.Role, x.Path))
		}
	}
	if f.state != "" {
		if p, err := filepath.Abs(filepath.Dir(f.state)); err == nil {
			if real, err := filepath.EvalSymlinks(p); err == nil {
				p = real
			}
			if rel, err := filepath.Rel(abs, p); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !containsInput(in, "state") {
				out = append(out, fmt.Sprintf("the state file %s would be inside the log's directory", f.state))
			}
		}
	}
	return out
}

func containsInput(in *inputSet, role string) bool {
	for _, x := range in.inputs() {
		if x.Role == role {
			return true
		}
	}
	return false
}

// openDirLog opens the log in dir read-only through the library, for the
// incremental check of --state, but only if every file the file store
// opens is a regular file: a FIFO or a device in a log given to verify
// must not block it (the verifier proper never opens one, and verifies
// such a log in full).
func openDirLog(dir string) (*sealog.Log, error) {
	for _, name := range []string{layout.MetadataFile, layout.CheckpointFile, layout.HashesFile, layout.IndexFile, layout.LockFile} {
		if fi, err := os.Lstat(filepath.Join(dir, name)); err == nil && !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("%s is not a regular file", name)
		}
	}
	l, err := layout.List(dir)
	if err != nil {
		return nil, err
	}
	if len(l.Bad) > 0 || len(l.Dups) > 0 {
		return nil, fmt.Errorf("the %s directory holds entries that are not segments", layout.SegmentsDir)
	}
	for _, sg := range l.Segments {
		if fi, err := os.Lstat(sg.Path); err != nil || !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("%s is not a regular file", sg.Path)
		}
	}
	return sealog.Open(dir, sealog.Options{ReadOnly: true})
}
