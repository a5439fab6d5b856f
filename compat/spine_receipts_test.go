package compat

import (
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// serverReceipt signs a receipt the way the Spine server does.
func serverReceipt(priv ed25519.PrivateKey, kid, eventID, payloadHash string, seq int) string {
	st := "2026-03-02T09:00:30.000000+00:00"
	msg := fmt.Sprintf("%s|%s|%s|%d", eventID, payloadHash, st, seq)
	sig := hex.EncodeToString(ed25519.Sign(priv, []byte(msg)))
	return fmt.Sprintf(`{"event_id": %q, "receipt": {"event_id": %q, "payload_hash": %q, "server_time": %q, "server_seq": %d, "receipt_sig": %q, "server_key_id": %q, "sig_alg": "ed25519"}, "attached_at": "2026-03-02T09:00:31+00:00"}`+"\n",
		eventID, eventID, payloadHash, st, seq, sig, kid)
}

func TestSpineReceipts(t *testing.T) {
	g := newSpineGen(t)
	g.addKey("srv", 5)
	srv := g.keys["srv"]
	recs := spineChain(g, 4)
	server := &KeyRef{KeyID: "srv-1", PublicKey: g.pub("srv")}
	good := func(i int) string { return serverReceipt(srv, "srv-1", recs[i].EventID, recs[i].PayloadHash, 100+i) }
	cases := []struct {
		name     string
		receipts string
		first    int
	}{
		{"all good", good(0) + good(1) + good(2) + good(3), -1},
		{"some missing", good(1), -1},
		{"bad signature", good(0) + strings.Replace(good(1), `"server_seq": 101`, `"server_seq": 999`, 1), 1},
		{"wrong payload_hash", good(0) + serverReceipt(srv, "srv-1", recs[2].EventID, strings.Repeat("0", 64), 102), 2},
		{"other server key id", serverReceipt(srv, "srv-2", recs[3].EventID, recs[3].PayloadHash, 103), 3},
		{"last line wins", strings.Replace(good(1), `"server_seq": 101`, `"server_seq": 999`, 1) + good(1), -1},
		{"receipt names another event", strings.Replace(good(0), `"event_id": "`+recs[0].EventID+`", "receipt"`, `"event_id": "`+recs[1].EventID+`", "receipt"`, 1), 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeWAL(t, dir, map[string][]*spRecSpec{"segment_20260302_090003.jsonl": recs}, recs[3], g.stream)
			writeFile(t, filepath.Join(dir, "receipts.jsonl"), c.receipts)
			trust := g.trust("kid_a")
			trust.ServerKey = server
			want(t, mustVerify(t, Spine, dir, Options{Trust: trust}), c.first < 0, c.first, 4)
			// Without the server key, receipts are only reported.
			r := mustVerify(t, Spine, dir, Options{Trust: g.trust("kid_a")})
			want(t, r, true, -1, 4)
			if r.ReceiptsUnverified == 0 {
				t.Error("receipts_unverified = 0")
			}
		})
	}
}
