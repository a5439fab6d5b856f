package sealslog

import (
	"encoding"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// arena holds the encoded leaves of one payload in one buffer: a leaf is
// a sub-slice of it (appending may move the buffer, but never changes the
// bytes an earlier sub-slice sees).
type arena struct{ b []byte }

func (a *arena) str(s string) []byte {
	n := len(a.b)
	a.b = appendString(a.b, s)
	return a.b[n:len(a.b):len(a.b)]
}

func (a *arena) value(v slog.Value) []byte {
	n := len(a.b)
	a.b = appendValue(a.b, v)
	return a.b[n:len(a.b):len(a.b)]
}

// object is a JSON object that keeps its members in insertion order; a
// key set twice keeps its first place and its last value, and a group
// set twice merges.
type object struct {
	kvs []kv
}

// kv is a member: an encoded leaf, or a nested object when obj is set.
type kv struct {
	k    string
	leaf []byte
	obj  *object
}

func reserved(k string) bool {
	return k == slog.TimeKey || k == slog.LevelKey || k == slog.MessageKey || k == slog.SourceKey
}

// group returns the nested object k, making it (in place of a leaf k)
// if there is none.
func (o *object) group(k string) *object {
	for i := range o.kvs {
		if o.kvs[i].k == k {
			if o.kvs[i].obj == nil {
				o.kvs[i] = kv{k: k, obj: &object{}}
			}
			return o.kvs[i].obj
		}
	}
	g := &object{}
	o.kvs = append(o.kvs, kv{k: k, obj: g})
	return g
}

func (o *object) set(e kv) {
	for i := range o.kvs {
		if o.kvs[i].k == e.k {
			o.kvs[i] = e
			return
		}
	}
	o.kvs = append(o.kvs, e)
}

func (o *object) setLeaf(k string, v []byte) { o.set(kv{k: k, leaf: v}) }

// addAttr adds a resolved attribute the way slog's handlers do: an empty
// attribute is ignored, a group without a key is inlined, an empty group
// is ignored.
func (o *object) addAttr(ar *arena, a slog.Attr) {
	v := a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return
	}
	if v.Kind() == slog.KindGroup {
		as := v.Group()
		if len(as) == 0 {
			return
		}
		dst := o
		if a.Key != "" {
			dst = o.group(a.Key)
		}
		for _, a := range as {
			dst.addAttr(ar, a)
		}
		return
	}
	o.setLeaf(a.Key, ar.value(v))
}

// prune removes the groups that ended up empty, and reports whether o
// is empty.
func (o *object) prune() bool {
	kept := o.kvs[:0]
	for _, e := range o.kvs {
		if e.obj != nil && e.obj.prune() {
			continue
		}
		kept = append(kept, e)
	}
	o.kvs = kept
	return len(kept) == 0
}

func (o *object) json(dst []byte) []byte {
	dst = append(dst, '{')
	for i, e := range o.kvs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, e.k)
		dst = append(dst, ':')
		if e.obj != nil {
			dst = e.obj.json(dst)
		} else {
			dst = append(dst, e.leaf...)
		}
	}
	return append(dst, '}')
}

// appendValue appends v's JSON form: numbers and booleans as such, a
// duration as its nanoseconds (as slog.JSONHandler does), a time in
// RFC 3339, an error as its message, other values by encoding/json (or
// their text form when that fails).
func appendValue(dst []byte, v slog.Value) []byte {
	switch v.Kind() {
	case slog.KindString:
		return appendString(dst, v.String())
	case slog.KindInt64:
		return strconv.AppendInt(dst, v.Int64(), 10)
	case slog.KindUint64:
		return strconv.AppendUint(dst, v.Uint64(), 10)
	case slog.KindFloat64:
		f := v.Float64()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return appendString(dst, strconv.FormatFloat(f, 'g', -1, 64))
		}
		return strconv.AppendFloat(dst, f, 'g', -1, 64)
	case slog.KindBool:
		return strconv.AppendBool(dst, v.Bool())
	case slog.KindDuration:
		return strconv.AppendInt(dst, int64(v.Duration()), 10)
	case slog.KindTime:
		return appendString(dst, v.Time().Format(time.RFC3339Nano))
	}
	a := v.Any()
	switch x := a.(type) {
	case nil:
		return append(dst, "null"...)
	case json.Marshaler:
	case error:
		return appendString(dst, x.Error())
	case encoding.TextMarshaler:
		if b, err := x.MarshalText(); err == nil {
			return appendString(dst, string(b))
		}
	}
	b, err := json.Marshal(a)
	if err != nil {
		return appendString(dst, fmt.Sprintf("%+v", a))
	}
	return append(dst, b...)
}

// appendString appends s as a JSON string; invalid UTF-8 becomes U+FFFD.
func appendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
