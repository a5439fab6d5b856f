// Package strictjson decodes the JSON documents sealog reads (evidence
// bundles, sealog.json, receipts, state files) so that every reader sees
// the same document: encoding/json alone matches member names without
// regard to case and lets the last of two members of one name win, so a
// document with "entries" and "ENTRIES" reads one way in Go and another in
// Python, jq or JavaScript.
//
// Unmarshal accepts exactly what encoding/json accepts, minus:
//
//   - a member whose name is not, byte for byte, the JSON name of a field
//     of the struct it is decoded into (unknown members, other cases);
//   - two members of one name in any object, at any depth (names compared
//     after unescaping, so "a" and "\u0061" are one name);
//   - invalid UTF-8, and \u escapes that leave a surrogate unpaired
//     (encoding/json would replace both with U+FFFD);
//   - anything but white space after the value.
//
// Values decoded by a json.Unmarshaler (time.Time, json.RawMessage) are
// checked for duplicates and encoding only; maps and interface values
// take any member names.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
	"unicode/utf8"
)

// MaxDepth is the deepest nesting Unmarshal accepts.
const MaxDepth = 1000

// Unmarshal decodes data into v (a non-nil pointer) strictly, as the
// package comment says, with encoding/json semantics otherwise.
func Unmarshal(data []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return errors.New("strictjson: Unmarshal needs a non-nil pointer")
	}
	if !utf8.Valid(data) {
		return errors.New("not valid UTF-8")
	}
	if err := Check(data, rv.Type().Elem()); err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

// Check reports whether data is one JSON value that Unmarshal would
// decode into a value of type t, without decoding it.
func Check(data []byte, t reflect.Type) error {
	if !utf8.Valid(data) {
		return errors.New("not valid UTF-8")
	}
	if surrogates(data) {
		return errors.New("a \\u escape of an unpaired surrogate")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	w := walker{dec: dec}
	if err := w.value(t, "", 0); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON value")
	}
	return nil
}

type walker struct{ dec *json.Decoder }

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// value checks the next value against t (nil: any type, names free).
func (w *walker) value(t reflect.Type, path string, depth int) error {
	if depth > MaxDepth {
		return errors.New("nested too deep")
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t != nil && (reflect.PointerTo(t).Implements(unmarshalerType) || t.Kind() == reflect.Interface) {
		t = nil // its own decoder, or any JSON: check duplicates only
	}
	tok, err := w.dec.Token()
	if err != nil {
		return fmt.Errorf("malformed JSON%s: %v", at(path), err)
	}
	switch tok := tok.(type) {
	case json.Delim:
		switch tok {
		case '{':
			return w.object(t, path, depth)
		case '[':
			var elem reflect.Type
			if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
				elem = t.Elem()
			}
			for i := 0; w.dec.More(); i++ {
				if err := w.value(elem, fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
					return err
				}
			}
			_, err := w.dec.Token() // ]
			return err
		}
	}
	return nil
}

func (w *walker) object(t reflect.Type, path string, depth int) error {
	var fields map[string]reflect.Type
	var elem reflect.Type
	switch {
	case t == nil:
	case t.Kind() == reflect.Struct:
		fields = fieldsOf(t)
	case t.Kind() == reflect.Map:
		elem = t.Elem()
	}
	seen := map[string]bool{}
	for w.dec.More() {
		tok, err := w.dec.Token()
		if err != nil {
			return fmt.Errorf("malformed JSON%s: %v", at(path), err)
		}
		name := tok.(string)
		p := path + "." + name
		if path == "" {
			p = name
		}
		if seen[name] {
			return fmt.Errorf("member %q appears twice%s", name, at(path))
		}
		seen[name] = true
		ft := elem
		if fields != nil {
			var ok bool
			if ft, ok = fields[name]; !ok {
				return fmt.Errorf("unknown member %q%s", name, at(path))
			}
		}
		if err := w.value(ft, p, depth+1); err != nil {
			return err
		}
	}
	_, err := w.dec.Token() // }
	return err
}

func at(path string) string {
	if path == "" {
		return ""
	}
	return " in " + path
}

var fieldCache sync.Map // reflect.Type -> map[string]reflect.Type

// fieldsOf returns the JSON member names of struct type t and their types,
// as encoding/json names them (tags, embedded structs, "-").
func fieldsOf(t reflect.Type) map[string]reflect.Type {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	m := map[string]reflect.Type{}
	addFields(t, m, 0)
	fieldCache.Store(t, m)
	return m
}

func addFields(t reflect.Type, m map[string]reflect.Type, depth int) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct && depth < 10 {
				addFields(ft, m, depth+1)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if _, dup := m[name]; !dup {
			m[name] = f.Type
		}
	}
}

// surrogates reports whether data, a JSON text, holds a \u escape of a
// surrogate that is not part of a high-low pair.
func surrogates(data []byte) bool {
	for i := 0; i+5 < len(data); i++ {
		if data[i] != '\\' {
			continue
		}
		if data[i+1] != 'u' {
			i++ // skip the escaped character (it may be a backslash)
			continue
		}
		r := hex4(data[i+2 : i+6])
		switch {
		case r >= 0xD800 && r < 0xDC00:
			if i+11 < len(data) && data[i+6] == '\\' && data[i+7] == 'u' {
				if lo := hex4(data[i+8 : i+12]); lo >= 0xDC00 && lo < 0xE000 {
					i += 11
					continue
				}
			}
			return true
		case r >= 0xDC00 && r < 0xE000:
			return true
		}
		i += 5
	}
	return false
}

func hex4(b []byte) int {
	v := 0
	for _, c := range b {
		switch {
		case '0' <= c && c <= '9':
			v = v<<4 | int(c-'0')
		case 'a' <= c && c <= 'f':
			v = v<<4 | int(c-'a'+10)
		case 'A' <= c && c <= 'F':
			v = v<<4 | int(c-'A'+10)
		default:
			return -1
		}
	}
	return v
}
