package format

import (
	"crypto/sha256"
	"encoding/binary"

	"golang.org/x/mod/sumdb/tlog"
)

// Version is the format version written in every leaf header and in the
// log's metadata. A reader MUST reject a leaf header with another version.
const Version = 1

// HeaderSize is the length in bytes of an encoded leaf header.
const HeaderSize = 1 + 8 + 8 + tlog.HashSize + tlog.HashSize

// SaltSize is the length in bytes of the per-entry body salt.
const SaltSize = 16

// Hash is a SHA-256 hash, the same type the Merkle tree code uses.
type Hash = tlog.Hash

// Header is the fixed binary leaf header: what the Merkle tree commits to
// for each entry. Prev is the leaf hash of entry Seq-1 (all zero for seq 0).
type Header struct {
	Seq      uint64
	Time     int64 // UTC, nanoseconds since the Unix epoch
	Prev     Hash
	BodyHash Hash
}

// Encode returns the 81-byte encoding of h:
// version || seq (u64 big-endian) || time (i64 big-endian) || prev || body_hash.
func (h *Header) Encode() [HeaderSize]byte {
	var b [HeaderSize]byte
	b[0] = Version
	binary.BigEndian.PutUint64(b[1:], h.Seq)
	binary.BigEndian.PutUint64(b[9:], uint64(h.Time))
	copy(b[17:], h.Prev[:])
	copy(b[17+tlog.HashSize:], h.BodyHash[:])
	return b
}

// LeafHash returns the RFC 6962 leaf hash of h: SHA-256(0x00 || header).
func (h *Header) LeafHash() Hash {
	var b [1 + HeaderSize]byte
	// b[0] = 0x00 is the RFC 6962 leaf prefix.
	enc := h.Encode()
	copy(b[1:], enc[:])
	return sha256.Sum256(b[:])
}

// DecodeHeader parses an encoded leaf header. It rejects any other length
// and any version but Version.
func DecodeHeader(b []byte) (Header, error) {
	if len(b) != HeaderSize {
		return Header{}, errorf("leaf header is %d bytes, want %d", len(b), HeaderSize)
	}
	if b[0] != Version {
		return Header{}, errorf("leaf header version %d, want %d", b[0], Version)
	}
	var h Header
	h.Seq = binary.BigEndian.Uint64(b[1:])
	h.Time = int64(binary.BigEndian.Uint64(b[9:]))
	copy(h.Prev[:], b[17:])
	copy(h.BodyHash[:], b[17+tlog.HashSize:])
	return h, nil
}

// BodyHash returns the salted commitment to an event body:
// SHA-256(salt || body). The salt makes an erased body impossible to
// guess back from its hash.
func BodyHash(salt *[SaltSize]byte, body []byte) Hash {
	// Concatenating on the stack is cheaper than a heap-allocated digest
	// for the usual event sizes.
	var buf [2048]byte
	if SaltSize+len(body) <= len(buf) {
		n := copy(buf[:], salt[:])
		n += copy(buf[n:], body)
		return sha256.Sum256(buf[:n])
	}
	d := sha256.New()
	d.Write(salt[:])
	d.Write(body)
	var h Hash
	d.Sum(h[:0])
	return h
}
