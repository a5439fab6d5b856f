package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/verify"
)

// Entry is an entry as the read endpoints return it. Line is the stored
// line, byte for byte: the leaf hash is rebuilt from it (docs/FORMAT.md),
// never from the decoded members, which are there for reading.
type Entry struct {
	Seq      uint64          `json:"seq"`
	Time     time.Time       `json:"time"`
	Kind     string          `json:"kind,omitempty"`
	Actor    string          `json:"actor,omitempty"`
	Resource string          `json:"resource,omitempty"`
	Payload  json.RawMessage `json:"payload,omitempty"`
	Erased   bool            `json:"erased,omitempty"`
	LeafHash tlog.Hash       `json:"leaf_hash"`
	BodyHash tlog.Hash       `json:"body_hash"`
	Prev     tlog.Hash       `json:"prev"`
	Line     string          `json:"line"`
}

func toEntry(e sealog.Entry) Entry {
	return Entry{Seq: e.Seq, Time: e.Time, Kind: e.Kind, Actor: e.Actor, Resource: e.Resource, Payload: e.Payload,
		Erased: e.Erased, LeafHash: e.LeafHash, BodyHash: e.BodyHash, Prev: e.Prev, Line: string(e.Line)}
}

// EntriesPage is the body of GET /v1/entries.
type EntriesPage struct {
	Entries []Entry `json:"entries"`
	// Next is the from of the next page; null when the scan reached the
	// end of the log (or passed until).
	Next *uint64 `json:"next"`
	// Size is the log's size when the page was read.
	Size uint64 `json:"size"`
}

// handleEntries serves GET /v1/entries: a page of entries from seq from,
// filtered by kind, actor and resource (exact matches) and by time
// (since inclusive, until exclusive). One request scans at most
// 10 × MaxPageSize entries; Next says where to go on.
func (s *Server) handleEntries(w http.ResponseWriter, r *http.Request, _ TokenInfo) {
	q, aerr := newQuery(r, "from", "limit", "kind", "actor", "resource", "since", "until")
	if aerr != nil {
		s.fail(w, r, aerr)
		return
	}
	from, aerr := q.uint("from", 0)
	var limit uint64
	if aerr == nil {
		limit, aerr = q.uint("limit", min(100, uint64(s.cfg.MaxPageSize)))
	}
	var since, until time.Time
	if aerr == nil {
		since, aerr = q.time("since")
	}
	if aerr == nil {
		until, aerr = q.time("until")
	}
	if aerr == nil && (limit == 0 || limit > uint64(s.cfg.MaxPageSize)) {
		aerr = badRequest("limit", "want 1 to %d", s.cfg.MaxPageSize)
	}
	if aerr != nil {
		s.fail(w, r, aerr)
		return
	}
	kind, actor, resource := q.str("kind"), q.str("actor"), q.str("resource")
	ctx := r.Context()
	h, err := s.log.Head(ctx)
	if err != nil {
		s.fail(w, r, storeError(err))
		return
	}
	if !since.IsZero() && from < h.Size {
		// Times never decrease along the log: start at the first entry
		// at or after since.
		if from, err = s.firstAtOrAfter(ctx, from, h.Size, since.UnixNano()); err != nil {
			s.fail(w, r, storeError(err))
			return
		}
	}
	page := EntriesPage{Entries: []Entry{}, Size: h.Size}
	budget := uint64(10 * s.cfg.MaxPageSize)
	end := min(h.Size, from+budget)
	next := end
	for e, err := range s.log.Entries(ctx, from, end) {
		if err != nil {
			s.fail(w, r, storeError(err))
			return
		}
		if !until.IsZero() && !e.Time.Before(until) {
			next = h.Size
			break
		}
		if (kind == "" || e.Kind == kind) && (actor == "" || e.Actor == actor) && (resource == "" || e.Resource == resource) {
			page.Entries = append(page.Entries, toEntry(e))
			if uint64(len(page.Entries)) == limit {
				next = e.Seq + 1
				break
			}
		}
	}
	if next < h.Size {
		page.Next = &next
	}
	writeJSON(w, page)
}

// firstAtOrAfter returns the first seq in [lo, hi) whose entry's time is
// at or after t (hi if none), by binary search over the stored lines.
func (s *Server) firstAtOrAfter(ctx context.Context, lo, hi uint64, t int64) (uint64, error) {
	var ferr error
	n := sort.Search(int(hi-lo), func(i int) bool {
		if ferr != nil {
			return true
		}
		ln, err := s.st.ReadLine(ctx, lo+uint64(i))
		if err != nil {
			ferr = err
			return true
		}
		l, err := format.ParseLine(ln.Bytes)
		if err != nil {
			ferr = err
			return true
		}
		return l.Time >= t
	})
	return lo + uint64(n), ferr
}

// EntryResponse is the body of GET /v1/entries/{seq}: the entry and, if
// asked for, its inclusion proof in a signed checkpoint.
type EntryResponse struct {
	Entry     Entry           `json:"entry"`
	Inclusion *InclusionProof `json:"inclusion,omitempty"`
	// Timestamp (with ?timestamp=true) is the log's RFC 3161 timestamp
	// that covers Inclusion's checkpoint, as a receipt carries it
	// (verify.ReceiptTimestamp); absent while no checkpoint that large
	// is stamped.
	Timestamp *verify.ReceiptTimestamp `json:"timestamp,omitempty"`
}

// InclusionProof proves that entry Seq (leaf LeafHash) is in the tree of
// Size entries, whose signed checkpoint is Checkpoint (when Size is the
// size of one: the end of a batch, or the head).
type InclusionProof struct {
	Seq        uint64           `json:"seq"`
	Size       uint64           `json:"size"`
	LeafHash   tlog.Hash        `json:"leaf_hash"`
	Proof      tlog.RecordProof `json:"proof"`
	Checkpoint string           `json:"checkpoint,omitempty"`
}

// handleEntry serves GET /v1/entries/{seq}[?proof=true][&size=N][&timestamp=true].
func (s *Server) handleEntry(w http.ResponseWriter, r *http.Request, _ TokenInfo) {
	asText, aerr := wantText(r, "format", "proof", "size", "timestamp")
	if aerr != nil {
		s.fail(w, r, aerr)
		return
	}
	seq, err := strconv.ParseUint(r.PathValue("seq"), 10, 63)
	if err != nil {
		s.fail(w, r, badRequest("seq", "%q is not an entry number", r.PathValue("seq")))
		return
	}
	q, _ := newQuery(r, "format", "proof", "size", "timestamp")
	withTS, aerr := q.bool("timestamp", false)
	var withProof bool
	if aerr == nil {
		withProof, aerr = q.bool("proof", q.has("size") || asText || withTS)
	}
	var size uint64
	if aerr == nil {
		size, aerr = q.uint("size", 0)
	}
	switch {
	case aerr == nil && withTS && !withProof:
		aerr = badRequest("proof", "timestamp=true needs the inclusion proof")
	case aerr == nil && withTS && asText:
		aerr = badRequest("timestamp", "a tlog-proof has no room for a timestamp: ask for JSON")
	}
	if aerr != nil {
		s.fail(w, r, aerr)
		return
	}
	ctx := r.Context()
	e, err := s.log.Entry(ctx, seq)
	if errors.Is(err, sealog.ErrNotFound) {
		s.fail(w, r, notFound("entry %d is not in the log", seq))
		return
	}
	if errors.Is(err, sealog.ErrPruned) {
		s.fail(w, r, notFound("entry %d was pruned: its content was deleted (docs/FORMAT.md §13)", seq))
		return
	}
	if err != nil {
		s.fail(w, r, storeError(err))
		return
	}
	resp := EntryResponse{Entry: toEntry(e)}
	if withProof {
		p, aerr := s.inclusion(ctx, seq, size, true)
		if aerr != nil {
			s.fail(w, r, aerr)
			return
		}
		if p.LeafHash != e.LeafHash {
			s.fail(w, r, internalError("entry %d: its line and the stored tree disagree", seq))
			return
		}
		resp.Inclusion = p
		if withTS {
			rc := sealog.Receipt{Seq: seq, LeafHash: p.LeafHash, Checkpoint: p.Checkpoint}
			if _, err := s.log.AddTimestamp(ctx, &rc); err != nil {
				s.fail(w, r, storeError(err))
				return
			}
			resp.Timestamp = rc.Timestamp
		}
	}
	if asText {
		writeBytes(w, TlogProofType+"; charset=utf-8", appendTlogProofs(nil, []Receipt{{
			Seq: seq, Line: resp.Entry.Line, Proof: resp.Inclusion.Proof, Checkpoint: resp.Inclusion.Checkpoint}}))
		return
	}
	writeJSON(w, resp)
}
