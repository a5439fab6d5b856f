package witness

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/internal/testkit"
)

const testOrigin = "example.com/test-log"

// treeLog is a log for tests: leaves in memory, signed checkpoints.
type treeLog struct {
	t      testing.TB
	signer note.Signer
	vkey   string
	hashes []tlog.Hash
	n      int64
}

func newTreeLog(t testing.TB, seed string) *treeLog {
	skey, vkey := testkit.Keys(seed, testOrigin)
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return &treeLog{t: t, signer: s, vkey: vkey}
}

func (l *treeLog) verifier() note.Verifier {
	v, err := note.NewVerifier(l.vkey)
	if err != nil {
		l.t.Fatal(err)
	}
	return v
}

func (l *treeLog) reader() tlog.HashReader {
	return tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = l.hashes[x]
		}
		return out, nil
	})
}

// grow appends n leaves named after prefix.
func (l *treeLog) grow(n int, prefix string) {
	for range n {
		hs, err := tlog.StoredHashes(l.n, []byte(prefix+strconv.FormatInt(l.n, 10)), l.reader())
		if err != nil {
			l.t.Fatal(err)
		}
		l.hashes = append(l.hashes, hs...)
		l.n++
	}
}

func (l *treeLog) checkpoint() []byte {
	root := emptyRoot
	if l.n > 0 {
		var err error
		if root, err = tlog.TreeHash(l.n, l.reader()); err != nil {
			l.t.Fatal(err)
		}
	}
	b, err := checkpoint.Sign(checkpoint.Checkpoint{Origin: testOrigin, Size: uint64(l.n), Root: root}, l.signer)
	if err != nil {
		l.t.Fatal(err)
	}
	return b
}

func (l *treeLog) proof(old int64) tlog.TreeProof {
	if old == 0 {
		return nil
	}
	p, err := tlog.ProveTree(l.n, old, l.reader())
	if err != nil {
		l.t.Fatal(err)
	}
	return p
}

func (l *treeLog) request(old int64) []byte {
	return (&Request{Old: uint64(old), Proof: l.proof(old), Checkpoint: l.checkpoint()}).Marshal()
}

// testWitness serves a witness following l on loopback.
func testWitness(t *testing.T, dir string, l *treeLog) (*httptest.Server, *checkpoint.Cosigner) {
	t.Helper()
	cs, err := checkpoint.NewCosigner("witness.example/w1", ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	st, err := OpenState(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w, err := New(Config{Cosigner: cs, State: st, Logs: []Log{{Origin: testOrigin, Verifiers: []note.Verifier{l.verifier()}}},
		Clock: testkit.Clock(time.Second), Logger: testkit.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(w)
	t.Cleanup(srv.Close)
	return srv, cs
}

func post(t *testing.T, url string, body []byte) (int, string, string) {
	t.Helper()
	resp, err := http.Post(url+"/add-checkpoint", "text/plain", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

func TestAddCheckpointAnswers(t *testing.T) {
	l := newTreeLog(t, "log")
	srv, cs := testWitness(t, t.TempDir(), l)
	v, err := checkpoint.ParseCosignatureVerifier(cs.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	l.grow(5, "a")
	code, _, body := post(t, srv.URL, l.request(0))
	if code != 200 {
		t.Fatalf("first checkpoint: %d %s", code, body)
	}
	// The answer is a cosignature line that verifies on the checkpoint.
	n, err := note.Open(append(l.checkpoint(), body...), note.VerifierList(l.verifier(), v))
	if err != nil || len(n.Sigs) != 2 {
		t.Fatalf("cosigned note does not open: %v", err)
	}

	other := newTreeLog(t, "other key") // same origin, another key
	other.grow(6, "a")
	unknown := []byte(strings.Replace(string(l.request(5)), testOrigin, "example.com/unknown", 1))
	l.grow(3, "a")
	forked := newTreeLog(t, "log")
	forked.grow(8, "b") // same key, another tree
	badSig := []byte(strings.Replace(string(l.request(5)), "\n8\n", "\n9\n", 1))

	cases := []struct {
		name  string
		body  []byte
		code  int
		ctype string
		want  string
	}{
		{"malformed old line", []byte("old 05\n\n" + string(l.checkpoint())), 400, "", ""},
		{"no blank line", []byte("old 5\n"), 400, "", ""},
		{"unknown origin", unknown, 404, "", ""},
		{"key not trusted", other.request(0), 403, "", ""},
		{"bad signature by a trusted key", badSig, 403, "", ""},
		{"old above size", (&Request{Old: 9, Checkpoint: l.checkpoint()}).Marshal(), 400, "", ""},
		{"old does not match", l.request(3), 409, "text/x.tlog.size", "5\n"},
		{"old zero after cosigning", l.request(0), 409, "text/x.tlog.size", "5\n"},
		{"fork: proof does not verify", (&Request{Old: 5, Proof: forked.proof(5), Checkpoint: forked.checkpoint()}).Marshal(), 422, "", ""},
		{"proof of the wrong length", (&Request{Old: 5, Proof: l.proof(5)[:1], Checkpoint: l.checkpoint()}).Marshal(), 422, "", ""},
		{"good update", l.request(5), 200, "", "— witness.example/w1 "},
		{"rolled back to the old size", (&Request{Old: 8, Checkpoint: mustSizeFive(t)}).Marshal(), 400, "", ""},
		{"same size, another root", (&Request{Old: 8, Checkpoint: forked.checkpoint()}).Marshal(), 422, "", ""},
		{"same checkpoint again", l.request(8), 200, "", "— witness.example/w1 "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, ctype, body := post(t, srv.URL, c.body)
			if code != c.code {
				t.Fatalf("status %d (%s), want %d", code, strings.TrimSpace(body), c.code)
			}
			if c.ctype != "" && ctype != c.ctype {
				t.Errorf("Content-Type %q, want %q", ctype, c.ctype)
			}
			if !strings.HasPrefix(body, c.want) {
				t.Errorf("body %q, want it to start with %q", body, c.want)
			}
		})
	}
}

// mustSizeFive is a validly signed checkpoint of the test log at size 5.
func mustSizeFive(t *testing.T) []byte {
	l := newTreeLog(t, "log")
	l.grow(5, "a")
	return l.checkpoint()
}

func TestEmptyTree(t *testing.T) {
	l := newTreeLog(t, "log")
	srv, _ := testWitness(t, t.TempDir(), l)
	if code, _, body := post(t, srv.URL, l.request(0)); code != 200 {
		t.Fatalf("empty checkpoint: %d %s", code, body)
	}
	bad, _ := checkpoint.Sign(checkpoint.Checkpoint{Origin: testOrigin, Size: 0, Root: tlog.Hash{1}}, l.signer)
	if code, _, _ := post(t, srv.URL, (&Request{Checkpoint: bad}).Marshal()); code != 422 {
		t.Fatalf("size 0 with another root: %d, want 422", code)
	}
	l.grow(1, "a")
	if code, _, _ := post(t, srv.URL, (&Request{Old: 0, Proof: []tlog.Hash{{1}}, Checkpoint: l.checkpoint()}).Marshal()); code != 422 {
		t.Fatalf("proof from 0: %d, want 422", code)
	}
}

// TestConcurrentNeverInconsistent sends many requests at once, from two
// forks of one log: at most one fork ever gets a cosignature past the
// common prefix, and the state ends on the largest cosigned checkpoint.
func TestConcurrentNeverInconsistent(t *testing.T) {
	a := newTreeLog(t, "log")
	b := newTreeLog(t, "log")
	a.grow(4, "x")
	b.grow(4, "x")
	srv, _ := testWitness(t, t.TempDir(), a)
	if code, _, body := post(t, srv.URL, a.request(0)); code != 200 {
		t.Fatal(code, body)
	}
	var reqs [][]byte
	for range 8 {
		a.grow(1, "a")
		b.grow(1, "b")
		reqs = append(reqs, a.request(4), b.request(4))
	}
	var mu sync.Mutex
	cosigned := map[string]bool{}
	var wg sync.WaitGroup
	for _, r := range reqs {
		wg.Go(func() {
			code, _, _ := post(t, srv.URL, r)
			if code == 200 {
				req, _ := ParseRequest(r)
				n, _ := checkpoint.ParseNote(req.Checkpoint)
				mu.Lock()
				cosigned[string(n.Text)] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	// Only the first request from size 4 can succeed: every other sees
	// another old size and gets 409.
	if len(cosigned) != 1 {
		t.Fatalf("%d checkpoints cosigned from size 4, want exactly 1", len(cosigned))
	}
}

func TestMonitoringCheckpoint(t *testing.T) {
	l := newTreeLog(t, "log")
	srv, _ := testWitness(t, t.TempDir(), l)
	h := sha256.Sum256([]byte(testOrigin))
	url := fmt.Sprintf("%s/%x/checkpoint", srv.URL, h)
	if resp, err := http.Get(url); err != nil || resp.StatusCode != 404 {
		t.Fatalf("before any cosignature: %v %v", resp.StatusCode, err)
	}
	l.grow(2, "a")
	post(t, srv.URL, l.request(0))
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.HasPrefix(b, l.checkpoint()[:len(l.checkpoint())-1]) {
		t.Fatalf("monitoring checkpoint: %d %q", resp.StatusCode, b)
	}
}

func TestStateLockedAgainstSecondProcess(t *testing.T) {
	dir := t.TempDir()
	st, err := OpenState(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := OpenState(dir); err == nil {
		t.Fatal("a second OpenState of one directory succeeded")
	}
}

func TestCorruptStateRefused(t *testing.T) {
	l := newTreeLog(t, "log")
	dir := t.TempDir()
	srv, _ := testWitness(t, dir, l)
	l.grow(3, "a")
	post(t, srv.URL, l.request(0))
	// Replace the state by the log's checkpoint without the cosignature:
	// the witness must not trust it.
	st := &State{dir: dir}
	if err := st.store(testOrigin, mustSizeFive(t)); err != nil {
		t.Fatal(err)
	}
	l.grow(2, "a")
	if code, _, _ := post(t, srv.URL, l.request(5)); code != 500 {
		t.Fatalf("corrupt state: %d, want 500", code)
	}
}
