//go:build ignore

// gen regenerates the format test vectors: go run testdata/vectors/gen.go
package main

import (
	"log"

	"github.com/sealog/sealog/internal/vectors"
)

func main() {
	if err := vectors.Generate("testdata/vectors"); err != nil {
		log.Fatal(err)
	}
}
