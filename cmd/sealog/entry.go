package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sealog/sealog"
)

// entryJSON is how show, query, tail and verify-bundle print an entry
// with --json.
type entryJSON struct {
	Seq      uint64          `json:"seq"`
	Time     string          `json:"time"`
	Kind     string          `json:"kind,omitempty"`
	Actor    string          `json:"actor,omitempty"`
	Resource string          `json:"resource,omitempty"`
	Payload  json.RawMessage `json:"payload,omitempty"`
	Erased   bool            `json:"erased"`
	LeafHash string          `json:"leaf_hash"`
}

func toEntryJSON(en *sealog.Entry) entryJSON {
	return entryJSON{
		Seq: en.Seq, Time: en.Time.UTC().Format(time.RFC3339Nano),
		Kind: en.Kind, Actor: en.Actor, Resource: en.Resource, Payload: en.Payload,
		Erased: en.Erased, LeafHash: en.LeafHash.String(),
	}
}

// writeEntryLine writes en as one JSON line.
func writeEntryLine(w io.Writer, en *sealog.Entry) error {
	b, err := json.Marshal(toEntryJSON(en))
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// writeEntryRow writes en as one line of text: seq, time, kind, actor,
// resource and the compact payload.
func writeEntryRow(w io.Writer, en *sealog.Entry) {
	if en.Erased {
		fmt.Fprintf(w, "%-8d %s  [erased: content removed, commitment kept]\n", en.Seq, en.Time.UTC().Format(time.RFC3339Nano))
		return
	}
	fmt.Fprintf(w, "%-8d %s  %-18s %-22s %-22s %s\n", en.Seq, en.Time.UTC().Format(time.RFC3339Nano),
		en.Kind, orDash(en.Actor), orDash(en.Resource), oneLine(en.Payload, 200))
}

// writeEntryText writes en in full, payload pretty-printed.
func writeEntryText(w io.Writer, en *sealog.Entry) {
	fmt.Fprintf(w, "seq:       %d\n", en.Seq)
	fmt.Fprintf(w, "time:      %s\n", en.Time.UTC().Format(time.RFC3339Nano))
	if en.Erased {
		fmt.Fprintf(w, "erased:    yes: its content was removed (GDPR); its commitment remains, so the log still verifies\n")
	} else {
		fmt.Fprintf(w, "kind:      %s\n", en.Kind)
		fmt.Fprintf(w, "actor:     %s\n", orDash(en.Actor))
		fmt.Fprintf(w, "resource:  %s\n", orDash(en.Resource))
		fmt.Fprintf(w, "payload:   %s\n", indentPayload(en.Payload))
	}
	fmt.Fprintf(w, "leaf hash: %s\n", en.LeafHash)
	fmt.Fprintf(w, "body hash: %s\n", en.BodyHash)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneLine returns a payload as one line, cut at max bytes.
func oneLine(p []byte, max int) string {
	s := string(p)
	if s == "" {
		s = "{}"
	}
	s = strings.ReplaceAll(s, "\n", `\n`)
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

// indentPayload pretty-prints a payload, indented to follow a label.
func indentPayload(p []byte) string {
	if len(p) == 0 {
		return "{}"
	}
	var b bytes.Buffer
	if err := json.Indent(&b, p, "           ", "  "); err != nil {
		return string(p)
	}
	return b.String()
}

// appendBase64 appends the standard base64 encoding of src.
func appendBase64(dst, src []byte) []byte {
	return base64.StdEncoding.AppendEncode(dst, src)
}
