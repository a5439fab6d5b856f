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

// buildVersion, when set at link time (go build -ldflags "-X
// main.buildVersion=v1.2.0"), is the version reported.
var buildVersion string

// version is the main module's version, with the VCS revision (and
// "-dirty" for uncommitted changes) when the build recorded one, or
// "devel".
func version() string {
	if buildVersion != "" {
		return buildVersion
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	v := bi.Main.Version
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch {
		case s.Key == "vcs.revision" && len(s.Value) >= 12:
			rev = s.Value[:12]
		case s.Key == "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if v == "devel" && rev != "" {
		v += "+" + rev
		if dirty {
			v += "-dirty"
		}
	}
	return v
}
