package main

import (
	"bytes"
	"os"
	"path/filepath"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/layout"
)

// witnessedNote returns the log directory's witnessed checkpoint (kept by
// 'sealog serve --policy') when it is validly signed by the log's key, or
// nil. Its cosignatures are not checked here: verifiers check them
// against their policy.
func witnessedNote(dir string, l *sealog.Log) []byte {
	b, err := os.ReadFile(filepath.Join(dir, layout.WitnessedFile))
	if err != nil || len(b) > checkpoint.MaxSize {
		return nil
	}
	v, _, err := sealog.ParseVerifier(l.VerifierKey())
	if err != nil {
		return nil
	}
	if _, _, err := checkpoint.Verify(b, v, l.Origin()); err != nil {
		return nil
	}
	return b
}

// withCosignatures returns ck's note with the cosignatures of the log
// directory's witnessed checkpoint when that is the same checkpoint.
func withCosignatures(dir string, l *sealog.Log, ck sealog.Checkpoint) []byte {
	w := witnessedNote(dir, l)
	if w == nil {
		return ck.Note
	}
	n, err := checkpoint.ParseNote(w)
	text := ck.Note[:bytes.LastIndex(ck.Note, []byte("\n\n"))+1]
	if err != nil || !bytes.Equal(n.Text, text) {
		return ck.Note
	}
	return w
}
