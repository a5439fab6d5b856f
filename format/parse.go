package format

import (
	"bytes"
	"encoding/base64"
	"math"
)

var (
	keySeq      = []byte(`{"seq":`)
	keyTime     = []byte(`,"time":"`)
	keyPrev     = []byte(`","prev":"`)
	keySalt     = []byte(`","salt":"`)
	keyEvent    = []byte(`","event":`)
	keyBodyHash = []byte(`","body_hash":"`)
	keySig      = []byte(`,"sig":"`)
)

var strictBase64 = base64.StdEncoding.Strict()

// ParseLine parses one segment line, without its terminating newline, in
// the canonical form AppendLine writes. It does not hash anything and does
// not decode the event; Line.Event aliases line. Any deviation from the
// canonical bytes (another member order, whitespace, upper-case hex, a
// non-canonical number or time, a seq above MaxSeq, a signature that is not
// SigSize bytes, a line of MaxLineSize bytes or more without its newline)
// is an error, so that no stored byte can be changed without detection.
func ParseLine(line []byte) (Line, error) {
	var l Line
	if len(line) >= MaxLineSize {
		return l, perr("line", "longer than 4 MiB with its newline")
	}
	rest, ok := bytes.CutPrefix(line, keySeq)
	if !ok {
		return l, perr("line", `does not start with {"seq":`)
	}
	n := 0
	for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
		n++
	}
	seq, err := parseUint(rest[:n])
	if err == nil && seq > MaxSeq {
		err = errorf("above 2^63-2")
	}
	if err != nil {
		return l, perr("seq", err.Error())
	}
	l.Seq = seq
	rest = rest[n:]

	if rest, ok = bytes.CutPrefix(rest, keyTime); !ok || len(rest) < TimeLen {
		return l, perr("time", `want ,"time":"YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ" after seq`)
	}
	if l.Time, err = ParseTime(rest[:TimeLen]); err != nil {
		return l, perr("time", err.Error())
	}
	rest = rest[TimeLen:]

	if rest, ok = bytes.CutPrefix(rest, keyPrev); !ok || len(rest) < 2*HashLen {
		return l, perr("prev", `want ,"prev":"<64 hex>" after time`)
	}
	if !decodeHex(l.Prev[:], rest[:2*HashLen]) {
		return l, perr("prev", "not 64 lower-case hex digits")
	}
	rest = rest[2*HashLen:]

	// The line ends with '}'; before it, optionally, the batch signature.
	if len(rest) < 2 || rest[len(rest)-1] != '}' {
		return l, perr("line", "does not end with }")
	}
	body := rest[:len(rest)-1]
	// Base64 has no quote, so the last quote but one opens the signature,
	// if there is one. (An erased line without one also ends in a quote.)
	if q := bytes.LastIndexByte(body[:len(body)-1], '"'); body[len(body)-1] == '"' && q >= 0 && bytes.HasSuffix(body[:q+1], keySig) {
		b64 := body[q+1 : len(body)-1]
		sig := make([]byte, strictBase64.DecodedLen(len(b64)))
		m, err := strictBase64.Decode(sig, b64)
		if err != nil || m != SigSize || base64.StdEncoding.EncodedLen(m) != len(b64) {
			return l, perr("sig", "not canonical base64 of 68 bytes (a 4-byte key hash and an Ed25519 signature)")
		}
		l.Sig = sig[:m]
		body = body[:q+1-len(keySig)]
	}

	if r, ok := bytes.CutPrefix(body, keySalt); ok {
		if len(r) < 2*SaltSize || !decodeHex(l.Salt[:], r[:2*SaltSize]) {
			return l, perr("salt", "not 32 lower-case hex digits")
		}
		r, ok = bytes.CutPrefix(r[2*SaltSize:], keyEvent)
		if !ok {
			return l, perr("event", `want ,"event":{...} after salt`)
		}
		if len(r) < 2 || r[0] != '{' || r[len(r)-1] != '}' {
			return l, perr("event", "not a JSON object followed by an optional sig member")
		}
		l.Event = r
		return l, nil
	}
	if r, ok := bytes.CutPrefix(body, keyBodyHash); ok {
		if len(r) != 2*HashLen+1 || r[2*HashLen] != '"' || !decodeHex(l.BodyHash[:], r[:2*HashLen]) {
			return l, perr("body_hash", "not 64 lower-case hex digits")
		}
		l.Erased = true
		return l, nil
	}
	return l, perr("line", `want "salt" and "event", or "body_hash", after prev`)
}

// HashLen is the length of a hash in bytes.
const HashLen = 32

// SigSize is the length in bytes of a batch signature (SIG decoded): a
// 4-byte key hash and a 64-byte Ed25519 signature.
const SigSize = 4 + 64

// MaxSeq is the largest seq a line may hold: the tree that ends with it
// has MaxSeq+1 = 2^63-1 leaves, the most a tree size can be in tlog (whose
// indexes are int64). Keeping every size in range rules out wraparound in
// every counter that a verifier derives from a seq.
const MaxSeq = math.MaxInt64 - 1

// parseUint parses a canonical unsigned decimal: no sign, no leading zero
// (except "0" itself), at most math.MaxUint64.
func parseUint(b []byte) (uint64, error) {
	if len(b) == 0 {
		return 0, errorf("not a decimal number")
	}
	if b[0] == '0' && len(b) > 1 {
		return 0, errorf("leading zero")
	}
	var v uint64
	for _, c := range b {
		d := uint64(c - '0')
		if v > (math.MaxUint64-d)/10 {
			return 0, errorf("too large")
		}
		v = v*10 + d
	}
	return v, nil
}

const hexDigits = "0123456789abcdef"

func appendHex(dst, src []byte) []byte {
	for _, b := range src {
		dst = append(dst, hexDigits[b>>4], hexDigits[b&15])
	}
	return dst
}

// decodeHex decodes exactly len(dst)*2 lower-case hex digits.
func decodeHex(dst, src []byte) bool {
	if len(src) != 2*len(dst) {
		return false
	}
	bad := byte(0)
	for i := range dst {
		hi, lo := unhexTable[src[2*i]], unhexTable[src[2*i+1]]
		bad |= hi | lo
		dst[i] = hi<<4 | lo&15
	}
	return bad&0x80 == 0
}

// unhexTable maps a lower-case hex digit to its value and anything else
// to 0xff, so that decodeHex checks a whole hash with one test.
var unhexTable = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i, c := range hexDigits {
		t[c] = byte(i)
	}
	return t
}()

// AppendHex appends the lower-case hex encoding of src to dst.
func AppendHex(dst, src []byte) []byte { return appendHex(dst, src) }

// ParseHash decodes 64 lower-case hex digits.
func ParseHash(s []byte) (Hash, bool) {
	var h Hash
	return h, decodeHex(h[:], s)
}
