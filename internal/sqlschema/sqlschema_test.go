package sqlschema

import (
	"errors"
	"testing"
	"testing/fstest"

	"github.com/sealog/sealog/store"
)

func TestLoad(t *testing.T) {
	ms := Load(fstest.MapFS{
		"m/0001_create.sql": {Data: []byte("CREATE TABLE a (x int);")},
		"m/0003_more.sql":   {Data: []byte("CREATE TABLE b (x int);")},
	}, "m")
	if len(ms) != 2 || ms[0].Version != 1 || ms[1].Version != 3 || ms[1].Name != "0003_more" || ms[1].SQL != "CREATE TABLE b (x int);" {
		t.Fatalf("Load: %+v", ms)
	}
}

func TestLoadRefusesDisorder(t *testing.T) {
	for name, fsys := range map[string]fstest.MapFS{
		"not numbered": {"m/create.sql": {}},
		"zero":         {"m/0000_create.sql": {}},
		"none":         {"m/README": {}},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("Load did not panic")
				}
			}()
			Load(fsys, "m")
		})
	}
}

func TestCheck(t *testing.T) {
	for _, c := range []struct {
		name       string
		v, latest  int
		migrate    bool
		want       error
		wantSchema bool
	}{
		{"current", 4, 4, false, nil, false},
		{"current, migrate asked", 4, 4, true, nil, false},
		{"older, migrate asked", 2, 4, true, ErrNeedsMigration, false},
		{"older", 2, 4, false, nil, true},
		{"newer", 5, 4, false, nil, true},
		{"newer, migrate asked", 5, 4, true, nil, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := Check("schema s", c.v, c.latest, c.migrate)
			if c.wantSchema {
				var se *store.SchemaError
				if !errors.As(err, &se) || !errors.Is(err, store.ErrSchema) || se.Found != c.v || se.Known != c.latest || se.Where != "schema s" {
					t.Fatalf("Check = %v, want a SchemaError", err)
				}
				return
			}
			if err != c.want {
				t.Fatalf("Check = %v, want %v", err, c.want)
			}
		})
	}
}
