package sqlite_test

import (
	"os"
	"testing"

	_ "modernc.org/sqlite" // database/sql driver "sqlite", for the tests' own queries

	"github.com/sealog/sealog/internal/testkit"
)

func TestMain(m *testing.M) {
	testkit.RunChild(map[string]func(string){"crash": crashChild, "writer": writerChild})
	os.Exit(m.Run())
}
