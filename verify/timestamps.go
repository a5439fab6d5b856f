package verify

import (
	"errors"
	"fmt"
	"time"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/layout"
)

// A TimestampChecker checks one RFC 3161 timestamp response against the
// checkpoint text it must cover (docs/FORMAT.md §12.3): package
// tstoken's Checker is one. CheckTimestamp returns an error wrapping
// ErrTimestampImprint when the token is over another message, another
// error when the response is not a granted timestamp with a nonce, and
// otherwise what it says, with Signer telling whether its signer was
// checked against trusted roots.
type TimestampChecker interface {
	CheckTimestamp(tsr, message []byte) (TimestampCheck, error)
}

// TimestampCheck is what a TimestampChecker found of a timestamp that
// covers its message.
type TimestampCheck struct {
	Time time.Time // the TSA's time: the message existed before it
	TSA  string    // the signer's subject
	// Signer: SignerTrusted (it chains to the checker's roots, with the
	// critical timeStamping usage), SignerUnchecked (the checker has no
	// roots) or SignerUntrusted (it does not; Problem says why).
	Signer  string
	Problem string
}

// The values of TimestampCheck.Signer.
const (
	SignerTrusted   = "trusted"
	SignerUnchecked = "unchecked"
	SignerUntrusted = "untrusted"
)

// ErrTimestampImprint is wrapped by a TimestampChecker's error for a
// token over another message than the checkpoint's.
var ErrTimestampImprint = errors.New("the token's message imprint is not the checkpoint's hash")

// TimestampSource is implemented by a Source that holds RFC 3161
// timestamp responses over the log's checkpoints (docs/FORMAT.md §12).
type TimestampSource interface {
	// Timestamps lists them in ascending tree size. damage describes
	// entries that look like timestamps but cannot be read as such.
	Timestamps() (ts []TimestampFile, damage []string, err error)
}

// TimestampFile is one stored timestamp response.
type TimestampFile struct {
	Size uint64 // the tree size of the checkpoint it covers
	Name string // where it is, for messages
	// Read returns its bytes (untrusted).
	Read func() ([]byte, error)
}

// TimestampInfo is what a verifier found of one timestamp: for Status
// "ok", entries From to Size-1 (and all before them) provably existed
// before Time, on the word of TSA.
type TimestampInfo struct {
	Size uint64    `json:"size"`
	From uint64    `json:"from"`
	Time time.Time `json:"time,omitzero"`
	TSA  string    `json:"tsa,omitempty"`
	// Status: "ok" (chain to the roots given checked), "bound" (it covers
	// the checkpoint, but no roots were given to check who signed it),
	// "not checked" (the entries before its size are not authenticated:
	// bad, or covered by no verified signature), or
	// "bad" (Problem says why).
	Status  string `json:"status"`
	Problem string `json:"problem,omitempty"`

	untrusted bool // "bad" only because its signer does not chain to the roots
}

func (d *dirSource) Timestamps() ([]TimestampFile, []string, error) {
	ts, damage, err := layout.Timestamps(d.dir)
	if err != nil {
		return nil, nil, err
	}
	out := make([]TimestampFile, len(ts))
	for i, t := range ts {
		path := t.Path
		out[i] = TimestampFile{Size: t.Size, Name: layout.TimestampsDir + "/" + layout.TimestampName(t.Size),
			Read: func() ([]byte, error) { return layout.ReadRegular(path, layout.MaxTimestampFile) }}
	}
	return out, damage, nil
}

// openTimestamps lists the source's timestamps, if it has any.
func (v *verification) openTimestamps() error {
	ts, ok := v.src.(TimestampSource)
	if !ok {
		return nil
	}
	files, damage, err := ts.Timestamps()
	if err != nil {
		return err
	}
	for _, d := range damage {
		v.rep.Problems = append(v.rep.Problems, Problem{Kind: "timestamp", Reason: d})
	}
	v.tsrs = files
	return nil
}

// timestamps checks each stored timestamp against the tree at its size
// (its imprint must be the SHA-256 of that checkpoint's text) and, with
// Options.Timestamps, its signature and chain; it reports for each range of
// entries the time before which they existed.
func (v *verification) timestamps() {
	rep, ch := v.rep, v.ch
	rep.TimestampsChecked = false
	present := ch.next
	var from uint64
	chained, unchained := 0, 0
	var firstUnchained *TimestampInfo
	for _, f := range v.tsrs {
		ti := TimestampInfo{Size: f.Size, From: from}
		root, reached := ch.targets[f.Size]
		b, err := f.Read()
		switch {
		case err != nil:
			ti.Status, ti.Problem = "bad", fmt.Sprintf("%s cannot be read: %v", f.Name, err)
		case f.Size > present:
			ti.Status, ti.Problem = "bad", fmt.Sprintf("%s is for a tree of %d entries, but the log holds %d: entries were removed, or the file was put there", f.Name, f.Size, present)
		case v.opts.Timestamps == nil:
			ti.Status = "not checked"
		case !reached || root == nil || f.Size > rep.Authenticated:
			// The entries before it are not proven (they are bad, or
			// no signature covers them): the token can say nothing.
			ti.Status = "not checked"
		default:
			msg := checkpoint.Checkpoint{Origin: v.origin, Size: f.Size, Root: *root}.Text()
			ti = v.checkTimestamp(ti, f.Name, b, msg)
			if ti.Status == "bad" && ti.untrusted {
				unchained++
				if firstUnchained == nil {
					firstUnchained = &ti
				}
				rep.Timestamps = append(rep.Timestamps, ti)
				continue
			}
		}
		if ti.Status == "ok" {
			chained++
		}
		if ti.Status == "bad" {
			seq := min(from, present)
			ch.problem(&seq, "timestamp", nil, ti.Problem)
		}
		if ti.Status == "ok" || ti.Status == "bound" {
			from = f.Size
		}
		rep.Timestamps = append(rep.Timestamps, ti)
	}
	switch {
	case unchained > 0 && chained == 0:
		// Like a wrong key: every token is from a TSA the roots do not
		// trust. Either the roots are not the right ones or every token
		// was replaced; nothing can be said of the time.
		ch.problem(nil, "tsa-roots", nil, fmt.Sprintf("no timestamp chains to the TSA roots given (%d stored; the first: %s): were the right roots given? No time is proven", unchained, firstUnchained.Problem))
	case unchained > 0:
		for _, ti := range rep.Timestamps {
			if ti.Status == "bad" && ti.untrusted {
				seq := min(ti.From, present)
				ch.problem(&seq, "timestamp", nil, ti.Problem+" (other timestamps of the log chain to the roots given: this one was replaced)")
			}
		}
	}
	rep.TimestampedTo = from
}

func (v *verification) checkTimestamp(ti TimestampInfo, name string, tsr, msg []byte) TimestampInfo {
	tc, err := v.opts.Timestamps.CheckTimestamp(tsr, msg)
	switch {
	case errors.Is(err, ErrTimestampImprint):
		ti.Status = "bad"
		ti.Problem = fmt.Sprintf("%s is not over the log's checkpoint of size %d: it was made for another checkpoint, or the entries before it were changed", name, ti.Size)
	case err != nil:
		ti.Status, ti.Problem = "bad", fmt.Sprintf("%s: %v", name, err)
	case tc.Signer == SignerUntrusted:
		ti.Status, ti.untrusted = "bad", true
		ti.Problem = fmt.Sprintf("%s: %s", name, tc.Problem)
		v.rep.TimestampsChecked = true
	default:
		ti.Time, ti.TSA, ti.Status = tc.Time, tc.TSA, "bound"
		if tc.Signer == SignerTrusted {
			ti.Status = "ok"
			v.rep.TimestampsChecked = true
		}
	}
	return ti
}

// timestampLines adds the timestamps to the text report: for each range
// of entries, the time before which they existed and who says so.
func timestampLines(r *Report, p func(string, string, ...any), more func(string, ...any)) {
	if len(r.Timestamps) == 0 {
		return
	}
	label := "timestamps:"
	for _, t := range r.Timestamps {
		switch t.Status {
		case "ok", "bound":
			who := t.TSA
			if who == "" {
				who = "a TSA"
			}
			p(label, "entries %d to %d existed before %s (%s)", t.From, t.Size-1, t.Time.Format(time.RFC3339), who)
			if t.Status == "bound" {
				more("  (bound to the checkpoint; its signer was not checked: give --tsa-roots)")
			}
		case "not checked":
			p(label, "size %d: not checked (the entries before it are not authenticated)", t.Size)
		default:
			p(label, "size %d: BAD: %s", t.Size, t.Problem)
		}
		label = ""
	}
	if n := r.Authenticated + r.Unsigned; r.TimestampedTo < n {
		p(label, "entries %d to %d have no timestamp yet", r.TimestampedTo, n-1)
	}
}
