package compat

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func walkAll(t *testing.T, f Format, path string, opts Options) []Record {
	t.Helper()
	var out []Record
	if err := Walk(context.Background(), f, path, opts, func(r Record) error {
		out = append(out, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestWalkSpine(t *testing.T) {
	data, err := os.ReadFile(fixtureRoot + "/spine/keys.json")
	if err != nil {
		t.Fatal(err)
	}
	trust, err := ParseTrust(data)
	if err != nil {
		t.Fatal(err)
	}
	dir := fixtureRoot + "/spine/valid/wal"
	recs := walkAll(t, Spine, dir, Options{Trust: trust})
	seg, _ := os.ReadFile(filepath.Join(dir, "segment_20260302_090003.jsonl"))
	lines := strings.Split(strings.TrimSuffix(string(seg), "\n"), "\n")
	if len(recs) != 6 {
		t.Fatalf("%d records", len(recs))
	}
	for i, r := range recs {
		if string(r.Raw) != lines[i] || !r.Verified || r.Index != i || r.Line != i+1 {
			t.Errorf("record %d: raw/verified/index/line wrong: %+v", i, r)
		}
		if i > 0 && recs[i-1].Hash != r.PrevHash {
			t.Errorf("record %d: prev_hash %s != previous entry hash %s", i, r.PrevHash, recs[i-1].Hash)
		}
	}
	if recs[0].Kind != "user.login" || recs[0].Actor != "café" && recs[0].Actor != "cafe\u0301" || recs[0].Time.IsZero() || recs[0].KeyID != "kid_compat_a" {
		t.Errorf("record 0 fields: %+v", recs[0])
	}
	if recs[0].Hash != "e24ca837f2daaacad73461639fcf149fae53ad674ae1489fd8e9199e33f4ec4a" {
		t.Errorf("entry hash %s", recs[0].Hash)
	}
	bad := walkAll(t, Spine, fixtureRoot+"/spine/payload_edited/wal", Options{Trust: trust})
	if bad[1].Verified || bad[1].Problem == "" || !bad[0].Verified {
		t.Errorf("payload_edited: %+v", bad[1])
	}
}

func TestWalkImmutable(t *testing.T) {
	recs := walkAll(t, ImmutableLogging, fixtureRoot+"/immutable-logging/valid/app.log", Options{})
	if len(recs) != 8 {
		t.Fatalf("%d records", len(recs))
	}
	r := recs[2]
	if r.Kind != "WARNING" || r.Resource != "billing.api" || r.Time.IsZero() || !r.Verified || !strings.HasPrefix(string(r.Sidecar), "3|sha256=") || r.Hash != "d2e568a8e230f938376ca6dbdd8454e2f2a00324d68dc6209a47d93234f0a3ba" {
		t.Errorf("record 2: %+v", r)
	}
}

func TestWalkStops(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := Walk(context.Background(), ImmutableLogging, fixtureRoot+"/immutable-logging/valid/app.log", Options{}, func(Record) error {
		n++
		if n == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 3 {
		t.Errorf("err=%v after %d records", err, n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Verify(ctx, ImmutableLogging, fixtureRoot+"/immutable-logging/valid/app.log", Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err=%v", err)
	}
}

func TestParseFormatTrustAnchor(t *testing.T) {
	for in, want := range map[string]Format{"spine": Spine, "spine-wal-v1": Spine, "spanforge": Spanforge, "spanforge-chain": Spanforge, "immutable-logging": ImmutableLogging, "Immutable_Logging": ImmutableLogging} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseFormat("syslog"); err == nil {
		t.Error("ParseFormat(syslog): want an error")
	}
	tr, err := ParseTrust([]byte(`{"keys": {"k1": "aa", "k0": "bb"}, "server_key": "srv=cc", "key_map": [{"event_id": "e", "secret": "s"}], "note": "x"}`))
	if err != nil || len(tr.Keys) != 2 || tr.Keys[0].KeyID != "k0" || tr.ServerKey.KeyID != "srv" || tr.KeyMap["e"] != "s" {
		t.Errorf("ParseTrust: %+v, %v", tr, err)
	}
	tr, err = ParseTrust([]byte(`{"keys": [{"key_id": "a", "public_key": "aa"}], "server_key": {"key_id": "s", "public_key": "bb"}, "secret": "x"}`))
	if err != nil || tr.ServerKey.PublicKey != "bb" || tr.Secret != "x" {
		t.Errorf("ParseTrust: %+v, %v", tr, err)
	}
	if _, err := ParseTrust([]byte(`[1]`)); err == nil {
		t.Error("ParseTrust([1]): want an error")
	}
	a, err := ParseAnchor([]byte(`{"entries": 8, "last_sha256": "AB", "meaning": "m"}`))
	if err != nil || *a.Entries != 8 || a.heads()[0] != "ab" || a.Meaning != "m" {
		t.Errorf("ParseAnchor: %+v, %v", a, err)
	}
	if _, err := ParseAnchor([]byte(`{"entries": -1}`)); err == nil {
		t.Error("negative entries: want an error")
	}
}

func TestDetectErrors(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{"empty.jsonl": "", "text.log": "hello\n", "other.json": "{\"a\": 1}\n",
		"segment_1.jsonl": `{"seq": 1, "sig_client": "x"}` + "\n"} {
		p := filepath.Join(dir, name)
		writeFile(t, p, body)
		if f, err := Detect(p); err == nil {
			t.Errorf("Detect(%s) = %s, want an error", name, f)
		}
	}
	if _, err := Detect(filepath.Join(dir, "missing")); err == nil {
		t.Error("Detect(missing): want an error")
	}
	empty := t.TempDir()
	if _, err := Detect(empty); err == nil {
		t.Error("Detect(empty dir): want an error")
	}
	if _, err := Verify(context.Background(), Spanforge, dir, Options{Trust: Trust{Secret: "s"}}); err == nil {
		t.Error("Verify(spanforge, dir): want an error")
	}
	if _, err := Verify(context.Background(), Spine, filepath.Join(dir, "text.log"), Options{}); err == nil {
		t.Error("Verify(spine, file): want an error")
	}
}
