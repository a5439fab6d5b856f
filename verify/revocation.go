package verify

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/sealog/sealog/checkpoint"
)

// Revocation statements (docs/KEYS.md, "Revocation"). A key that leaked
// is revoked by a signed note
//
//	sealog-revocation/v1
//	<origin>
//	<the revoked verifier key>
//	<size P>
//	<time T, RFC 3339 in UTC, "Z">
//
// signed by a key the auditor trusts other than the revoked one (an
// offline root key, or the log key the revoked one was rotated to). From
// it, nothing the revoked key signs for a tree larger than P is trusted,
// unless a witness the auditor trusts cosigned that checkpoint, or a
// timestamp shows it, before T.

// RevocationHeader is the first line of a revocation statement.
const RevocationHeader = "sealog-revocation/v1"

// Revocation is a parsed revocation statement.
type Revocation struct {
	Origin string
	Key    string    // the revoked verifier key
	Size   uint64    // the revocation point: its signatures on trees of more entries are not trusted
	Time   time.Time // evidence (cosignatures, timestamps) made before this still counts
	note   *checkpoint.Note
}

// ParseRevocation parses a revocation statement (a signed note) without
// checking its signature (Verify does, against the keys it trusts).
func ParseRevocation(b []byte) (Revocation, error) {
	n, err := checkpoint.ParseNote(checkpoint.Normalize(b))
	if err != nil {
		return Revocation{}, fmt.Errorf("not a signed revocation statement: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(string(n.Text), "\n"), "\n")
	if len(lines) != 5 || lines[0] != RevocationHeader {
		return Revocation{}, fmt.Errorf("not a revocation statement: want the lines %s, origin, key, size and time", RevocationHeader)
	}
	r := Revocation{Origin: lines[1], Key: lines[2], note: n}
	v, err := note.NewVerifier(r.Key)
	if err != nil || v.Name() != r.Origin {
		return Revocation{}, fmt.Errorf("revocation statement: %q is not a verifier key of %q", r.Key, r.Origin)
	}
	if r.Size, err = strconv.ParseUint(lines[3], 10, 64); err != nil || strconv.FormatUint(r.Size, 10) != lines[3] {
		return Revocation{}, fmt.Errorf("revocation statement: malformed size %q", lines[3])
	}
	if r.Time, err = time.Parse(time.RFC3339Nano, lines[4]); err != nil || !strings.HasSuffix(lines[4], "Z") {
		return Revocation{}, fmt.Errorf("revocation statement: malformed time %q (RFC 3339, UTC, ending in Z)", lines[4])
	}
	return r, nil
}

// RevocationText returns the text a revocation statement signs.
func RevocationText(origin, vkey string, size uint64, t time.Time) []byte {
	return fmt.Appendf(nil, "%s\n%s\n%s\n%d\n%s\n", RevocationHeader, origin, vkey, size, t.UTC().Format(time.RFC3339Nano))
}

// signedBy returns the first of vs whose signature on the statement
// verifies.
func (r *Revocation) signedBy(vs []note.Verifier) (note.Verifier, bool) {
	for _, v := range vs {
		for _, s := range r.note.Sigs {
			if s.Name == v.Name() && s.KeyHash == v.KeyHash() && v.Verify(r.note.Text, s.Sig) {
				return v, true
			}
		}
	}
	return nil, false
}

// RevokedRange is what a revocation leaves covered by nothing the auditor
// can still trust.
type RevokedRange struct {
	Key string `json:"key"` // the revoked key
	// Point is the revocation's size P: entries below it are untouched.
	Point uint64 `json:"point"`
	// First and Last are the seqs of the entries covered only by the
	// revoked key's signatures past the point (or by keys it handed over
	// to past the point); Count how many (0: none, and First and Last
	// mean nothing).
	First uint64 `json:"first"`
	Last  uint64 `json:"last"`
	Count uint64 `json:"count"`
	// Witnessed is the largest checkpoint size that a trusted witness
	// cosigned, or a timestamp showed, before the revocation's time.
	Witnessed uint64 `json:"witnessed"`
}

// Witness cosignatures (C2SP tlog-cosignature): the key is
// <name>+<hash>+base64(0x04 ‖ Ed25519 public key); the signature line
// carries keyhash ‖ u64be(time) ‖ signature over
// "cosignature/v1\ntime <time>\n" ‖ checkpoint text.
type witness struct {
	name string
	hash uint32
	pub  ed25519.PublicKey
}

func parseWitness(vkey string) (witness, error) {
	parts := strings.SplitN(strings.TrimSpace(vkey), "+", 3)
	if len(parts) != 3 {
		return witness{}, errors.New("not a witness key <name>+<hash>+<base64>")
	}
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(raw) != 1+ed25519.PublicKeySize || raw[0] != 0x04 {
		return witness{}, errors.New("not a C2SP cosignature/v1 witness key (type 0x04, Ed25519)")
	}
	h := sha256.Sum256(append([]byte(parts[0]+"\n"), raw...))
	w := witness{name: parts[0], hash: binary.BigEndian.Uint32(h[:4]), pub: raw[1:]}
	if fmt.Sprintf("%08x", w.hash) != parts[1] {
		return witness{}, errors.New("the witness key's hash does not match it")
	}
	return w, nil
}

// cosignedBefore reports whether a trusted witness cosigned the checkpoint
// note before t.
func cosignedBefore(msg []byte, ws []witness, t time.Time) bool {
	n, err := checkpoint.ParseNote(msg)
	if err != nil {
		return false
	}
	for _, s := range n.Sigs {
		if len(s.Sig) != 8+ed25519.SignatureSize {
			continue
		}
		for _, w := range ws {
			if s.Name != w.name || s.KeyHash != w.hash {
				continue
			}
			ts := binary.BigEndian.Uint64(s.Sig[:8])
			signed := fmt.Appendf(nil, "cosignature/v1\ntime %d\n%s", ts, n.Text)
			if ts < uint64(1<<63) && time.Unix(int64(ts), 0).Before(t) && ed25519.Verify(w.pub, signed, s.Sig[8:]) {
				return true
			}
		}
	}
	return false
}

// checkRevocations parses the revocation statements and checks that each
// is signed by a key allowed to revoke (docs/KEYS.md): a trusted key
// other than the revoked one, or the key of the chain the revoked one
// handed over to before the revocation point.
func (v *verification) checkRevocations() error {
	chain := v.ch.sigs.chain
	for _, w := range v.opts.Witnesses {
		pw, err := parseWitness(w)
		if err != nil {
			return &InputError{What: "witness key " + w, Err: err}
		}
		v.witnesses = append(v.witnesses, pw)
	}
	for i, b := range v.opts.Revocations {
		what := fmt.Sprintf("revocation statement %d", i+1)
		r, err := ParseRevocation(b)
		if err != nil {
			return &InputError{What: what, Err: err}
		}
		if r.Origin != v.origin {
			return &InputError{What: what, Err: fmt.Errorf("it revokes a key of %q, not of this log (%q)", r.Origin, v.origin)}
		}
		rv, _ := note.NewVerifier(r.Key)
		var allowed []note.Verifier
		for _, c := range v.candidates {
			if v.trusted[keyID(c.v)] && keyID(c.v) != keyID(rv) {
				allowed = append(allowed, c.v)
			}
		}
		for _, e := range chain.epochs[1:] {
			if e.checked && e.rotation+1 <= r.Size && keyID(e.v) != keyID(rv) {
				allowed = append(allowed, e.v)
			}
		}
		if _, ok := r.signedBy(allowed); !ok {
			return &InputError{What: what, Err: errors.New("not signed by a key you trust other than the revoked one, nor by the key the revoked one handed over to before the point")}
		}
		v.revs = append(v.revs, r)
	}
	return nil
}

// revoked reports, for each revocation, the authenticated entries that
// only the revoked key vouches for past its point: a problem at the first.
func (v *verification) revoked() {
	rep, ch := v.rep, v.ch
	es := ch.sigs.chain.epochs
	for _, r := range v.revs {
		rv, _ := note.NewVerifier(r.Key)
		i := -1
		for j := range es {
			if keyID(es[j].v) == keyID(rv) {
				i = j
			}
		}
		if i < 0 {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("a revocation names %s, which is not a key of this log's chain: it changes nothing", r.Key))
			continue
		}
		rr := RevokedRange{Key: r.Key, Point: r.Size}
		covered := r.Size // its signatures up to the point stand
		if i > 0 {
			covered = max(covered, es[i].from-1) // the trees before its turn are the previous key's
		}
		if i+1 < len(es) && es[i+1].checked && es[i+1].rotation+1 <= r.Size {
			covered = rep.Authenticated // it handed over before the point: its successors vouch for everything
		}
		for j := i + 1; j < len(es); j++ {
			if v.trusted[keyID(es[j].v)] && v.sr.maxOK >= es[j].from {
				covered = max(covered, v.sr.maxOK) // a later key the auditor trusts in its own right
			}
		}
		rr.Witnessed = v.witnessed(r.Time)
		covered = max(covered, rr.Witnessed)
		if covered < rep.Authenticated {
			rr.First, rr.Last, rr.Count = covered, rep.Authenticated-1, rep.Authenticated-covered
			ch.problem(ptr(covered), "revoked", nil, fmt.Sprintf("entries %d to %d are covered only by signatures of the revoked key %s past its revocation point (size %d), or of keys it handed over to past it, and no trusted witness or timestamp vouches for them before %s", covered, rep.Authenticated-1, r.Key, r.Size, r.Time.Format(time.RFC3339)))
		}
		rep.Revoked = append(rep.Revoked, rr)
	}
}

// witnessed returns the largest size of a trusted checkpoint that the log's
// entries reproduce and that a trusted witness cosigned, or a timestamp
// (Options.ExistedBefore) dates, before t.
func (v *verification) witnessed(t time.Time) uint64 {
	var best uint64
	for _, b := range v.opts.Checkpoints {
		b = checkpoint.Normalize(b)
		c, err := checkpoint.ParseUnverified(b)
		if err != nil || c.Size == 0 || c.Size > v.ch.next {
			continue
		}
		if root := v.ch.targets[c.Size]; root == nil || *root != c.Root {
			continue
		}
		ok := cosignedBefore(b, v.witnesses, t)
		if !ok && v.opts.ExistedBefore != nil {
			at, dated := v.opts.ExistedBefore(c, b)
			ok = dated && at.Before(t)
		}
		if ok {
			best = max(best, c.Size)
		}
	}
	return best
}

// writeRevoked lists what the revocations left uncovered, in the text
// report.
func (r *Report) writeRevoked(p func(string, string, ...any), more func(string, ...any)) {
	for i, rr := range r.Revoked {
		label := ""
		if i == 0 {
			label = "revoked:"
		}
		if rr.Count == 0 {
			p(label, "%s after size %d: no entry depends on it", rr.Key, rr.Point)
			continue
		}
		p(label, "%s after size %d: entries %d to %d are covered only by it (NOT trusted)", rr.Key, rr.Point, rr.First, rr.Last)
		if rr.Witnessed > 0 {
			more("(a trusted witness or timestamp vouches for the first %d entries)", rr.Witnessed)
		}
	}
}
