package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// apiError is an error answered to a client: an HTTP status, a stable
// code (the errors_total metric's kind), a message and, for a bad
// request, the field at fault.
type apiError struct {
	status     int
	code       string
	msg        string
	field      string
	retryAfter int // seconds; 0: no Retry-After header
}

func (e *apiError) Error() string {
	if e.field != "" {
		return e.field + ": " + e.msg
	}
	return e.msg
}

// errorBody is the JSON body of every error response.
type errorBody struct {
	Error string `json:"error"`
	Code  string `json:"code"`
	Field string `json:"field,omitempty"`
}

func badRequest(field, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "bad_request", field: field, msg: fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) *apiError {
	return &apiError{status: http.StatusNotFound, code: "not_found", msg: fmt.Sprintf(format, args...)}
}

func internalError(format string, args ...any) *apiError {
	return &apiError{status: http.StatusInternalServerError, code: "internal", msg: fmt.Sprintf(format, args...)}
}

var (
	errUnauthorized = &apiError{status: http.StatusUnauthorized, code: "unauthorized",
		msg: "a valid bearer token is required (Authorization: Bearer <token>)"}
	errOverloaded = &apiError{status: http.StatusServiceUnavailable, code: "overloaded",
		msg: "too many appends pending; retry later", retryAfter: 1}
	errShuttingDown = &apiError{status: http.StatusServiceUnavailable, code: "unavailable",
		msg: "the server is shutting down; retry on another instance or later", retryAfter: 1}
)

func forbidden(need Role) *apiError {
	return &apiError{status: http.StatusForbidden, code: "forbidden", msg: fmt.Sprintf("this token's role does not allow this (it needs the %s role)", need)}
}

// writeError answers err as JSON.
func writeError(w http.ResponseWriter, err *apiError) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Del("Content-Encoding")
	if err.status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="sealog"`)
	}
	if err.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(err.retryAfter))
	}
	w.WriteHeader(err.status)
	b, _ := json.Marshal(errorBody{Error: err.msg, Code: err.code, Field: err.field})
	w.Write(append(b, '\n'))
}

// writeJSON answers v as JSON with status 200.
func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, internalError("encoding the response: %v", err))
		return
	}
	writeBytes(w, "application/json", append(b, '\n'))
}

// writeBytes answers b with status 200. The header values are set
// straight into the map, in canonical form, the common ones shared
// (net/http only reads them): a receipt costs a few allocations less.
func writeBytes(w http.ResponseWriter, contentType string, b []byte) {
	h := w.Header()
	if contentType == "application/json" {
		h["Content-Type"] = jsonType
	} else {
		h["Content-Type"] = []string{contentType}
	}
	h["Content-Length"] = []string{strconv.Itoa(len(b))}
	if _, ok := h["Cache-Control"]; !ok {
		h["Cache-Control"] = noStore
	}
	w.Write(b)
}

var (
	jsonType = []string{"application/json"}
	noStore  = []string{"no-store"}
)
