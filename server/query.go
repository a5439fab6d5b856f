package server

import (
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// query reads a request's query parameters strictly: each at most once,
// none but the allowed ones.
type query struct {
	r    *http.Request
	vals map[string][]string
}

func newQuery(r *http.Request, allowed ...string) (*query, *apiError) {
	vals := r.URL.Query()
	for k, v := range vals {
		ok := false
		for _, a := range allowed {
			ok = ok || a == k
		}
		if !ok {
			return nil, badRequest(k, "unknown query parameter (this endpoint takes %s)", strings.Join(allowed, ", "))
		}
		if len(v) > 1 {
			return nil, badRequest(k, "given %d times", len(v))
		}
	}
	return &query{r: r, vals: vals}, nil
}

func (q *query) has(k string) bool { return len(q.vals[k]) > 0 }

func (q *query) str(k string) string {
	if v := q.vals[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// uint reads a non-negative decimal integer, def when absent.
func (q *query) uint(k string, def uint64) (uint64, *apiError) {
	v := q.str(k)
	if v == "" {
		if q.has(k) {
			return 0, badRequest(k, "empty: want a number")
		}
		return def, nil
	}
	n, err := strconv.ParseUint(v, 10, 63)
	if err != nil {
		return 0, badRequest(k, "%q is not a non-negative decimal integer", v)
	}
	return n, nil
}

// time reads an RFC 3339 time; the zero time when absent.
func (q *query) time(k string) (time.Time, *apiError) {
	v := q.str(k)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, badRequest(k, "%q is not an RFC 3339 time (like 2026-11-21T08:00:00Z)", v)
	}
	return t, nil
}

// bool reads true/false/1/0; def when absent.
func (q *query) bool(k string, def bool) (bool, *apiError) {
	switch q.str(k) {
	case "":
		return def, nil
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, badRequest(k, "want true or false")
}

// wantText reports whether the client asked for C2SP tlog-proof text:
// with the format parameter ("tlog-proof" or "json"), or with an Accept
// header naming TlogProofType before application/json. The query must
// hold nothing else.
func wantText(r *http.Request, allowed ...string) (bool, *apiError) {
	q, err := newQuery(r, allowed...)
	if err != nil {
		return false, err
	}
	switch q.str("format") {
	case "tlog-proof":
		return true, nil
	case "json":
		return false, nil
	case "":
	default:
		return false, badRequest("format", "want tlog-proof or json")
	}
	return acceptsText(r), nil
}

func acceptsText(r *http.Request) bool {
	accept := r.Header.Get("Accept")
	switch accept {
	case "", "*/*", "application/json": // the common ones, without parsing
		return false
	}
	for _, part := range strings.Split(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case TlogProofType:
			return true
		case "application/json", "*/*", "application/*":
			return false
		}
	}
	return false
}
