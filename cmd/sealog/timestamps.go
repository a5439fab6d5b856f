package main

import (
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/bundle"
	"github.com/sealog/sealog/tsa"
)

// loadTSARoots reads --tsa-roots: a PEM file of the CAs whose TSAs the
// auditor trusts.
func loadTSARoots(path string) ([]*x509.Certificate, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, ioError("--tsa-roots %s: %v", path, pathErr(err))
	}
	roots, err := tsa.ParseRoots(b)
	if err != nil {
		return nil, usageError("--tsa-roots %s: %v", path, err).withHint("give a PEM file of CA certificates (-----BEGIN CERTIFICATE-----)")
	}
	return roots, nil
}

// serveTimestamper configures serve's --tsa, --tsa-interval and
// --tsa-roots into opts.
func serveTimestamper(f *serveFlags, opts *sealog.Options) error {
	if f.tsaURL == "" {
		if f.tsaRoots != "" || f.tsaInterval != 0 {
			return usageError("serve: --tsa-roots and --tsa-interval need --tsa URL")
		}
		return nil
	}
	if f.tsaInterval < 0 {
		return usageError("serve: --tsa-interval must not be negative")
	}
	roots, err := loadTSARoots(f.tsaRoots)
	if err != nil {
		return err
	}
	c, err := tsa.New(tsa.Options{URL: f.tsaURL, Roots: roots})
	if err != nil {
		return usageError("serve: --tsa: %v", err)
	}
	opts.Timestamper, opts.TimestampInterval = c, f.tsaInterval
	return nil
}

// writeBundleTimestamp adds a bundle's timestamp to its text report.
func writeBundleTimestamp(w io.Writer, t *bundle.TimestampResult) {
	switch {
	case t == nil:
	case t.Status == "bad":
		fmt.Fprintf(w, "timestamp:   BAD: %s\n", t.Problem)
	default:
		fmt.Fprintf(w, "timestamp:   every entry existed before %s (%s)\n", t.Time.Format(time.RFC3339), t.TSA)
		if t.Status == "bound" {
			fmt.Fprintf(w, "             its signer was not checked: give --tsa-roots\n")
		}
	}
}
