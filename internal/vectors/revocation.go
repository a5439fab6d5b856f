package vectors

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/verify"
)

// RevocationCase is one case of revocation/expected.json: the inputs, by
// file name in revocation/, given with the rotated log (rotated/), its
// first key (--key) and the root key (--keys root.keys), and what every
// verifier must say.
type RevocationCase struct {
	Name        string   `json:"name"`
	Revocations []string `json:"revocations"`
	Checkpoints []string `json:"checkpoints"`
	Witnesses   []string `json:"witnesses"`
	// Verdict is the verify verdict, or "error" when the inputs are
	// refused (exit 3).
	Verdict      string                `json:"verdict"`
	FirstInvalid *uint64               `json:"first_invalid"`
	Revoked      []verify.RevokedRange `json:"revoked"`
}

// RevocationTime is the time the vector's statements name (the leak).
var RevocationTime = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// writeRevocation writes revocation/ (docs/KEYS.md, "Revocation"):
// statements about the keys of rotated/ signed by an offline root key,
// by a successor, by the revoked key and by a stranger; a witness key and
// the log's checkpoint cosigned by it before and after the leak; and
// expected.json, the verdicts.
func writeRevocation(dir string) error {
	out := filepath.Join(dir, "revocation")
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	var ks [3]*sealog.Key
	for i := range ks {
		skey, _ := RotatedKey(i)
		k, err := sealog.ParseKey(skey)
		if err != nil {
			return err
		}
		ks[i] = k
	}
	key := func(seed, origin string) (*sealog.Key, error) {
		skey, _ := testkit.Keys(seed, origin)
		return sealog.ParseKey(skey)
	}
	root, err := key("sealog vectors revocation root", Origin+"-root")
	if err != nil {
		return err
	}
	stranger, err := key("sealog vectors revocation stranger", Origin)
	if err != nil {
		return err
	}
	files := map[string][]byte{"root.keys": []byte("# the auditor's offline root key, trusted besides key 0\n" + root.VerifierKey() + "\n")}
	stmt := func(name string, revoked int, size uint64, by *sealog.Key) error {
		text := verify.RevocationText(Origin, ks[revoked].VerifierKey(), size, RevocationTime)
		sig, err := checkpoint.SignText(text, by.Signer())
		if err != nil {
			return err
		}
		files[name] = checkpoint.Assemble(text, by.Origin(), sig)
		return nil
	}
	for _, s := range []struct {
		name    string
		revoked int
		size    uint64
		by      *sealog.Key
	}{
		{"key2-at-10.root", 2, 10, root}, {"key1-at-8.root", 1, 8, root}, {"key1-at-10.key2", 1, 10, ks[2]},
		{"key0-at-6.root", 0, 6, root}, {"key2-at-10.key2", 2, 10, ks[2]}, {"key2-at-10.stranger", 2, 10, stranger},
		{"key1-at-8.key2", 1, 8, ks[2]},
	} {
		if err := stmt(s.name+".revocation", s.revoked, s.size, s.by); err != nil {
			return err
		}
	}
	// A witness (C2SP tlog-cosignature) cosigns the log's checkpoint of
	// size 12 an hour before and an hour after the leak.
	wh := sha256.Sum256([]byte("sealog vectors revocation witness"))
	wpriv := ed25519.NewKeyFromSeed(wh[:])
	const wname = "witness.example/w1"
	raw := append([]byte{0x04}, wpriv.Public().(ed25519.PublicKey)...)
	kh := sha256.Sum256(append([]byte(wname+"\n"), raw...))
	hash := binary.BigEndian.Uint32(kh[:4])
	files["witness.pub"] = fmt.Appendf(nil, "%s+%08x+%s\n", wname, hash, base64.StdEncoding.EncodeToString(raw))
	ck, err := os.ReadFile(filepath.Join(dir, "rotated", "checkpoint"))
	if err != nil {
		return err
	}
	n, err := checkpoint.ParseNote(ck)
	if err != nil {
		return err
	}
	for name, at := range map[string]time.Time{"before": RevocationTime.Add(-time.Hour), "after": RevocationTime.Add(time.Hour)} {
		ts := uint64(at.Unix())
		sig := ed25519.Sign(wpriv, fmt.Appendf(nil, "cosignature/v1\ntime %d\n%s", ts, n.Text))
		line := binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint32(nil, hash), ts)
		files["checkpoint.cosigned-"+name] = fmt.Appendf(append([]byte(nil), ck...), "— %s %s\n", wname, base64.StdEncoding.EncodeToString(append(line, sig...)))
	}
	u := func(v uint64) *uint64 { return &v }
	none := []verify.RevokedRange{{Key: ks[0].VerifierKey(), Point: 6}}
	cases := []RevocationCase{
		{Name: "the last key, revoked at 10: the entries only it signs", Revocations: []string{"key2-at-10.root.revocation"},
			Verdict: verify.VerdictRevoked, FirstInvalid: u(10), Revoked: []verify.RevokedRange{{Key: ks[2].VerifierKey(), Point: 10, First: 10, Last: 11, Count: 2}}},
		{Name: "the middle key, revoked before it handed over: its successor is tainted too", Revocations: []string{"key1-at-8.root.revocation"},
			Verdict: verify.VerdictRevoked, FirstInvalid: u(8), Revoked: []verify.RevokedRange{{Key: ks[1].VerifierKey(), Point: 8, First: 8, Last: 11, Count: 4}}},
		{Name: "the middle key, revoked after it handed over, by its successor", Revocations: []string{"key1-at-10.key2.revocation"},
			Verdict: verify.VerdictValid, Revoked: []verify.RevokedRange{{Key: ks[1].VerifierKey(), Point: 10}}},
		{Name: "the first key at its last tree", Revocations: []string{"key0-at-6.root.revocation"}, Verdict: verify.VerdictValid, Revoked: none},
		{Name: "witnessed before the leak", Revocations: []string{"key2-at-10.root.revocation"}, Checkpoints: []string{"checkpoint.cosigned-before"}, Witnesses: []string{"witness.pub"},
			Verdict: verify.VerdictValid, Revoked: []verify.RevokedRange{{Key: ks[2].VerifierKey(), Point: 10, Witnessed: 12}}},
		{Name: "witnessed after the leak", Revocations: []string{"key2-at-10.root.revocation"}, Checkpoints: []string{"checkpoint.cosigned-after"}, Witnesses: []string{"witness.pub"},
			Verdict: verify.VerdictRevoked, FirstInvalid: u(10), Revoked: []verify.RevokedRange{{Key: ks[2].VerifierKey(), Point: 10, First: 10, Last: 11, Count: 2}}},
		{Name: "two statements", Revocations: []string{"key0-at-6.root.revocation", "key2-at-10.root.revocation"},
			Verdict: verify.VerdictRevoked, FirstInvalid: u(10), Revoked: append(none[:1:1], verify.RevokedRange{Key: ks[2].VerifierKey(), Point: 10, First: 10, Last: 11, Count: 2})},
		{Name: "signed by the revoked key: refused", Revocations: []string{"key2-at-10.key2.revocation"}, Verdict: "error"},
		{Name: "signed by a stranger: refused", Revocations: []string{"key2-at-10.stranger.revocation"}, Verdict: "error"},
		{Name: "signed by a successor named past the point: refused", Revocations: []string{"key1-at-8.key2.revocation"}, Verdict: "error"},
	}
	b, err := json.MarshalIndent(cases, "", "  ")
	if err != nil {
		return err
	}
	files["expected.json"] = append(b, '\n')
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(out, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
