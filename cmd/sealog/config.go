package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"sort"

	"github.com/sealog/sealog/layout"
)

// maxConfigFile bounds a --config file.
const maxConfigFile = 1 << 20

// applyConfig sets the flags of fl that the command line did not set from
// the config file path: a JSON object whose members are flag names without
// dashes, each with a string, number or boolean (an array of them for a
// repeatable flag). The command line wins over the file; a member that is
// not a flag of the command, or a value of the wrong kind, is an error
// that names it.
func applyConfig(cmd string, fl *flag.FlagSet, path string) error {
	b, err := layout.ReadRegular(path, maxConfigFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return ioError("--config %s does not exist", path)
	case err != nil:
		return ioError("--config %s: %v", path, pathErr(err))
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]json.RawMessage
	if err := dec.Decode(&m); err != nil {
		return ioError("--config %s: not a JSON object: %v", path, err)
	}
	if dec.More() {
		return ioError("--config %s: more than one JSON value", path)
	}
	given := map[string]bool{}
	fl.Visit(func(f *flag.Flag) { given[f.Name] = true })
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		f := fl.Lookup(name)
		if f == nil || name == "config" {
			return ioError("--config %s: %q is not a flag of sealog %s", path, name, cmd).
				withHint("the members are the command's flags without dashes; run 'sealog %s -h'", cmd)
		}
		if given[name] {
			continue // the command line wins
		}
		vals, err := configValues(m[name])
		if err != nil {
			return ioError("--config %s: %q: %v", path, name, err)
		}
		for _, v := range vals {
			if err := fl.Set(name, v); err != nil {
				return ioError("--config %s: %q: %v", path, name, err)
			}
		}
	}
	return nil
}

// configValues returns the flag values a config member holds.
func configValues(raw json.RawMessage) ([]string, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	one := func(v any) (string, error) {
		switch x := v.(type) {
		case string:
			return x, nil
		case json.Number:
			return x.String(), nil
		case bool:
			return fmt.Sprint(x), nil
		}
		return "", errors.New("want a string, a number or a boolean")
	}
	if arr, ok := v.([]any); ok {
		out := make([]string, 0, len(arr))
		for _, a := range arr {
			s, err := one(a)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	}
	s, err := one(v)
	if err != nil {
		return nil, err
	}
	return []string{s}, nil
}
