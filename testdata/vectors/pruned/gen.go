//go:build ignore

// gen regenerates the pruned-log vector: go run testdata/vectors/pruned/gen.go
package main

import (
	"log"

	"github.com/sealog/sealog/internal/vectors"
)

func main() {
	if err := vectors.GeneratePruned("testdata/vectors/pruned"); err != nil {
		log.Fatal(err)
	}
}
