//go:build ignore

// gen regenerates the pruned rotated vector: go run testdata/vectors/pruned-rotated/gen.go
package main

import (
	"log"

	"github.com/sealog/sealog/internal/vectors"
)

func main() {
	if err := vectors.GeneratePrunedRotated("testdata/vectors/pruned-rotated"); err != nil {
		log.Fatal(err)
	}
}
