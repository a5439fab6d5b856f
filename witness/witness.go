package witness

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/checkpoint"
)

// Log is a log the witness follows: its origin and the keys whose
// signature on a checkpoint it accepts (any one suffices).
type Log struct {
	Origin    string
	Verifiers []note.Verifier
}

// Config configures a Witness. Cosigner, State and at least one Log are
// required.
type Config struct {
	// Cosigner is the witness's key and name.
	Cosigner *checkpoint.Cosigner
	// Logs are the logs the witness cosigns for, by origin.
	Logs []Log
	// State keeps the latest cosigned checkpoint per origin. The Witness
	// does not close it.
	State *State
	// Clock stamps cosignatures; nil means time.Now.
	Clock func() time.Time
	// Logger receives one line per refused request (a refused but validly
	// signed checkpoint may be evidence of a misbehaving log); nil is
	// silent.
	Logger *slog.Logger
}

// Witness serves the tlog-witness protocol. Make one with New; it is safe
// for concurrent use.
type Witness struct {
	cfg  Config
	logs map[string][]note.Verifier
	mux  *http.ServeMux
}

// New checks cfg and returns its Witness.
func New(cfg Config) (*Witness, error) {
	if cfg.Cosigner == nil || cfg.State == nil {
		return nil, errors.New("witness: Config.Cosigner and Config.State are required")
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	w := &Witness{cfg: cfg, logs: map[string][]note.Verifier{}, mux: http.NewServeMux()}
	for _, l := range cfg.Logs {
		if len(l.Verifiers) == 0 {
			return nil, fmt.Errorf("witness: log %q has no key", l.Origin)
		}
		w.logs[l.Origin] = append(w.logs[l.Origin], l.Verifiers...)
	}
	w.mux.HandleFunc("POST /add-checkpoint", w.serveAdd)
	w.mux.HandleFunc("GET /{hash}/checkpoint", w.serveCheckpoint)
	return w, nil
}

// ServeHTTP serves the witness API.
func (w *Witness) ServeHTTP(rw http.ResponseWriter, r *http.Request) { w.mux.ServeHTTP(rw, r) }

// Origins lists the origins the witness follows.
func (w *Witness) Origins() []string {
	out := make([]string, 0, len(w.logs))
	for o := range w.logs {
		out = append(out, o)
	}
	return out
}

// answer is the outcome of an add-checkpoint request.
type answer struct {
	status int
	body   []byte
	ctype  string
}

func fail(status int, format string, args ...any) answer {
	return answer{status: status, body: []byte(fmt.Sprintf(format, args...) + "\n"), ctype: "text/plain; charset=utf-8"}
}

func (w *Witness) serveAdd(rw http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, MaxRequestSize))
	var a answer
	if err != nil {
		a = fail(http.StatusBadRequest, "reading the request: %v", err)
	} else {
		a = w.add(body)
	}
	if a.status != http.StatusOK {
		w.cfg.Logger.Info("add-checkpoint refused", "status", a.status, "remote", r.RemoteAddr, "reason", string(bytes.TrimSpace(a.body)))
	}
	rw.Header().Set("Content-Type", a.ctype)
	rw.WriteHeader(a.status)
	rw.Write(a.body)
}

// emptyRoot is the RFC 6962 hash of the empty tree, SHA-256 of nothing.
var emptyRoot = tlog.Hash(sha256.Sum256(nil))

// add checks a request and, if it passes, cosigns and persists it.
func (w *Witness) add(body []byte) answer {
	req, err := ParseRequest(body)
	if err != nil {
		return fail(http.StatusBadRequest, "malformed request: %v", err)
	}
	n, err := checkpoint.ParseNote(req.Checkpoint)
	if err != nil {
		return fail(http.StatusBadRequest, "malformed checkpoint: %v", err)
	}
	ck, err := checkpoint.Parse(n.Text)
	if err != nil {
		return fail(http.StatusBadRequest, "malformed checkpoint: %v", err)
	}
	vs, ok := w.logs[ck.Origin]
	if !ok {
		return fail(http.StatusNotFound, "unknown log origin %q", ck.Origin)
	}
	if err := verifyLogSignature(n, vs); err != nil {
		return fail(http.StatusForbidden, "checkpoint of %q: %v", ck.Origin, err)
	}
	if req.Old > ck.Size {
		return fail(http.StatusBadRequest, "old size %d is larger than the checkpoint's size %d", req.Old, ck.Size)
	}

	mu := w.cfg.State.originLock(ck.Origin)
	mu.Lock()
	defer mu.Unlock()
	prev, err := w.latest(ck.Origin)
	if err != nil {
		return fail(http.StatusInternalServerError, "%v", err)
	}
	if req.Old != prev.Size {
		return answer{status: http.StatusConflict, body: []byte(strconv.FormatUint(prev.Size, 10) + "\n"), ctype: "text/x.tlog.size"}
	}
	switch {
	case ck.Size == 0 && ck.Root != emptyRoot:
		return fail(http.StatusUnprocessableEntity, "a checkpoint of size 0 must have the empty tree's root hash")
	case req.Old == 0 && len(req.Proof) != 0:
		return fail(http.StatusUnprocessableEntity, "a consistency proof from size 0 must be empty")
	case req.Old != 0:
		if err := tlog.CheckTree(req.Proof, int64(ck.Size), ck.Root, int64(req.Old), prev.Root); err != nil {
			return fail(http.StatusUnprocessableEntity, "the consistency proof from size %d to %d does not verify: %v", req.Old, ck.Size, err)
		}
	}
	line := w.cfg.Cosigner.Cosign(n.Text, w.cfg.Clock())
	if err := w.cfg.State.store(ck.Origin, stateNote(n, vs, line)); err != nil {
		return fail(http.StatusInternalServerError, "%v", err)
	}
	return answer{status: http.StatusOK, body: line, ctype: "text/plain; charset=utf-8"}
}

// verifyLogSignature requires a valid signature by one of vs and no
// invalid signature line by any of them (a line whose name and key ID
// match a trusted key but whose signature fails makes the note malformed);
// lines by other keys are ignored.
func verifyLogSignature(n *checkpoint.Note, vs []note.Verifier) error {
	good := false
	for _, s := range n.Sigs {
		for _, v := range vs {
			if s.Name != v.Name() || s.KeyHash != v.KeyHash() {
				continue
			}
			if !v.Verify(n.Text, s.Sig) {
				return fmt.Errorf("the signature by %s does not verify", v.Name())
			}
			good = true
		}
	}
	if !good {
		return errors.New("no signature by a key the witness trusts for this log")
	}
	return nil
}

// stateNote is what the witness keeps: the checkpoint text, the log's
// signature lines by trusted keys, and the witness's cosignature line.
func stateNote(n *checkpoint.Note, vs []note.Verifier, cosig []byte) []byte {
	var b bytes.Buffer
	b.Write(n.Text)
	b.WriteByte('\n')
	for _, s := range n.Sigs {
		for _, v := range vs {
			if s.Name == v.Name() && s.KeyHash == v.KeyHash() {
				b.Write(sigLine(s))
				break
			}
		}
	}
	b.Write(cosig)
	return b.Bytes()
}

// sigLine encodes a signature line.
func sigLine(s checkpoint.Signature) []byte {
	raw := make([]byte, 4, 4+len(s.Sig))
	raw[0], raw[1], raw[2], raw[3] = byte(s.KeyHash>>24), byte(s.KeyHash>>16), byte(s.KeyHash>>8), byte(s.KeyHash)
	raw = append(raw, s.Sig...)
	return fmt.Appendf(nil, "— %s %s\n", s.Name, b64(raw))
}

// latest returns origin's latest cosigned checkpoint, size 0 with the
// empty root when there is none. The stored note must carry the
// witness's own valid cosignature: a file changed behind its back is an
// error, never a silently different state.
func (w *Witness) latest(origin string) (checkpoint.Checkpoint, error) {
	b, err := w.cfg.State.Load(origin)
	if err != nil || b == nil {
		return checkpoint.Checkpoint{Origin: origin, Root: emptyRoot}, err
	}
	n, err := checkpoint.ParseNote(b)
	if err != nil {
		return checkpoint.Checkpoint{}, fmt.Errorf("witness: the state of %q is corrupt: %v", origin, err)
	}
	ck, err := checkpoint.Parse(n.Text)
	if err != nil || ck.Origin != origin {
		return checkpoint.Checkpoint{}, fmt.Errorf("witness: the state of %q is corrupt: not its checkpoint", origin)
	}
	v, err := checkpoint.ParseCosignatureVerifier(w.cfg.Cosigner.VerifierKey())
	if err != nil {
		return checkpoint.Checkpoint{}, err
	}
	for _, s := range n.Sigs {
		if s.Name == v.Name() && s.KeyHash == v.KeyHash() && v.Verify(n.Text, s.Sig) {
			return ck, nil
		}
	}
	return checkpoint.Checkpoint{}, fmt.Errorf("witness: the state of %q is corrupt: it lacks the witness's cosignature", origin)
}

// serveCheckpoint serves GET /<hex sha256 of origin>/checkpoint: the
// latest checkpoint cosigned for that log, with the log's signature and
// the witness's cosignature (the spec's monitoring API).
func (w *Witness) serveCheckpoint(rw http.ResponseWriter, r *http.Request) {
	h := r.PathValue("hash")
	for origin := range w.logs {
		sum := sha256.Sum256([]byte(origin))
		if hex.EncodeToString(sum[:]) != h {
			continue
		}
		b, err := w.cfg.State.Load(origin)
		switch {
		case err != nil:
			http.Error(rw, err.Error(), http.StatusInternalServerError)
		case b == nil:
			http.Error(rw, "no checkpoint of this log cosigned yet", http.StatusNotFound)
		default:
			rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
			rw.Write(b)
		}
		return
	}
	http.Error(rw, "unknown log", http.StatusNotFound)
}
