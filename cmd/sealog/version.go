package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/sealog/sealog/layout"
)

var versionCmd = &command{
	name:    "version",
	summary: "print the version",
	usage: `Usage: sealog version [--json]

Prints sealog's version (the module version it was built from, or
"devel"), the Go version, and the log format version it reads and writes.

Flags:
    --json   print {"version","go","format","bundle","os","arch"}
`,
}

func init() { versionCmd.run = runVersion }

func runVersion(e *env, args []string) error {
	c := versionCmd
	fl := newFlags(c)
	asJSON := fl.Bool("json", false, "")
	pos, err := parseArgs(e, c, fl, args)
	if err != nil {
		return err
	}
	if err := wantArgs(c, pos, 0, 0, ""); err != nil {
		return err
	}
	v := version()
	if *asJSON {
		return writeJSON(e.stdout, map[string]string{"version": v, "go": runtime.Version(), "format": layout.FormatName, "bundle": "sealog-bundle/v1", "os": runtime.GOOS, "arch": runtime.GOARCH})
	}
	fmt.Fprintf(e.stdout, "sealog %s (%s, %s/%s; log format %s)\n", v, runtime.Version(), runtime.GOOS, runtime.GOARCH, layout.FormatName)
	return nil
}

// version is the main module's version, with the VCS revision when the
// build recorded one, or "devel".
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	v := bi.Main.Version
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && v == "devel" && len(s.Value) >= 12 {
			v += "+" + s.Value[:12]
		}
	}
	return v
}
