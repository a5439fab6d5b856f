package server

import (
	"context"
	_ "embed"
	"net/http"
	"time"
)

// handleHealth answers /healthz: the process is up and serving.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request, _ TokenInfo) {
	writeJSON(w, map[string]string{"status": "ok"})
}

// handleReady answers /readyz: 200 when the server takes appends and its
// store answers, 503 otherwise (shutting down, store unreachable).
func (s *Server) handleReady(w http.ResponseWriter, r *http.Request, _ TokenInfo) {
	if s.closing.Load() {
		s.fail(w, r, errShuttingDown)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if _, err := s.st.Head(ctx); err != nil {
		s.fail(w, r, &apiError{status: http.StatusServiceUnavailable, code: "unavailable", msg: "the store does not answer: " + err.Error(), retryAfter: 1})
		return
	}
	writeJSON(w, map[string]string{"status": "ready"})
}

//go:embed openapi.yaml
var openAPI []byte

// OpenAPI returns the API's OpenAPI 3 description (server/openapi.yaml),
// which the server also serves at /openapi.yaml.
func OpenAPI() []byte { return append([]byte(nil), openAPI...) }

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request, _ TokenInfo) {
	w.Header().Set("Cache-Control", "public, max-age=3600")
	writeBytes(w, "application/yaml", openAPI)
}
