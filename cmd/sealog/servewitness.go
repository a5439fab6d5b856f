package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/policy"
	"github.com/sealog/sealog/witnessclient"
)

// readPolicy reads a witness policy file (c2sp.org/tlog-policy).
func readPolicy(flagName, path string) (*policy.Policy, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, ioError("%s %s: %v", flagName, path, pathErr(err))
	}
	p, err := policy.Parse(b)
	if err != nil {
		return nil, ioError("%s %s: %v", flagName, path, strings.TrimPrefix(err.Error(), "policy: "))
	}
	return p, nil
}

// serveWitnesses makes the witness client of 'sealog serve --policy':
// the log's key must be one of the policy's logs (when it lists any),
// and the cosigned checkpoints are kept in the log directory's
// "witnessed" file unless --witness-state names another.
func serveWitnesses(f *serveFlags, l *sealog.Log, reg prometheus.Registerer, lg *slog.Logger) (*witnessclient.Client, error) {
	p, err := readPolicy("--policy", f.policy)
	if err != nil {
		return nil, err
	}
	if len(p.Logs) > 0 {
		found := false
		for _, pl := range p.Logs {
			found = found || pl.VKey == l.VerifierKey()
		}
		if !found {
			return nil, usageError("serve: --policy %s does not list this log's key %s", f.policy, l.VerifierKey()).
				withHint("add the line 'log %s' to the policy", l.VerifierKey())
		}
	}
	state := f.witnessState
	if state == "" {
		state = filepath.Join(serveStoreDir(f), layout.WitnessedFile)
	}
	c, err := witnessclient.New(witnessclient.Config{Policy: p, Source: l, StateFile: state, Registerer: reg, Logger: lg})
	if err != nil {
		return nil, ioError("--policy %s: %v", f.policy, strings.TrimPrefix(err.Error(), "witnessclient: "))
	}
	return c, nil
}

// serveStoreDir is where the witnessed checkpoint goes by default: the
// log directory, or the server's directory for a log in a database.
func serveStoreDir(f *serveFlags) string {
	spec := f.store
	if spec == "" {
		return filepath.Join(f.data, "log")
	}
	if _, ok, err := databaseLog(spec); ok || err != nil {
		return f.data
	}
	return logPath(spec)
}
