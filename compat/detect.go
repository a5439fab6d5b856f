package compat

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Detect looks at path and says which format it holds: a directory with
// Spine segment files (or its chain_state.json / stream.meta.json) is a
// Spine WAL; a file with a .integrity sidecar beside it is an
// immutable-logging log; a file whose first non-blank line is a JSON object
// with event_id and payload (or checksum/signature) is a spanforge chain; a
// file without a sidecar whose rotated siblings have theirs is an
// immutable-logging log that lost its sidecar.
// Otherwise it returns an error that says why not.
func Detect(path string) (Format, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("detect: %w", err)
	}
	if fi.IsDir() {
		segs, err := spineSegments(path)
		if err != nil {
			return "", fmt.Errorf("detect: %w", err)
		}
		if len(segs) > 0 || exists(filepath.Join(path, "chain_state.json")) || exists(filepath.Join(path, "stream.meta.json")) {
			return Spine, nil
		}
		return "", fmt.Errorf("detect: directory %s holds no Spine segment_*.jsonl, chain_state.json or stream.meta.json", path)
	}
	if strings.HasSuffix(path, sidecarSuffix) && exists(strings.TrimSuffix(path, sidecarSuffix)) {
		return "", fmt.Errorf("detect: %s is an immutable-logging sidecar: give the log file %s", path, strings.TrimSuffix(path, sidecarSuffix))
	}
	if exists(path + sidecarSuffix) {
		return ImmutableLogging, nil
	}
	line, err := firstLine(path)
	if err != nil {
		return "", fmt.Errorf("detect: %w", err)
	}
	var p jparser
	if line == nil || p.parse(line) != nil || p.nodes[0].kind != jObject {
		// An immutable-logging log whose own sidecar is missing still
		// has rotated siblings with theirs.
		if set, err := immutableSet(path); err == nil {
			for _, f := range set[:len(set)-1] {
				if exists(f + sidecarSuffix) {
					return ImmutableLogging, nil
				}
			}
		}
		if line == nil {
			return "", fmt.Errorf("detect: %s is empty and has no %s sidecar: cannot tell its format", path, sidecarSuffix)
		}
		return "", fmt.Errorf("detect: %s: first line is not a JSON object (so not spanforge), and there is no %s sidecar beside it (so not immutable-logging)", path, sidecarSuffix)
	}
	has := func(k string) bool { return p.member(0, k) >= 0 }
	switch {
	case has("event_id") && has("payload") && (has("checksum") || has("signature") || has("prev_id")):
		return Spanforge, nil
	case has("seq") && has("sig_client"):
		return "", fmt.Errorf("detect: %s looks like a Spine segment: give its WAL directory %s", path, filepath.Dir(path))
	case has("event_id") && has("payload"):
		return Spanforge, nil
	}
	return "", fmt.Errorf("detect: %s: first line is JSON but has no spanforge fields (event_id, payload, checksum, signature)", path)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// firstLine returns the first non-blank line of a file (nil if none),
// reading at most 16 MiB.
func firstLine(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	lr := newLineReader(f, path)
	for read := 0; read < 16<<20; {
		line, _, ok, err := lr.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, nil
		}
		read += len(line) + 1
		if t := trimLine(line); len(t) > 0 {
			return bytes.Clone(t), nil
		}
	}
	return nil, nil
}
