package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/internal/durable"
	"github.com/sealog/sealog/witness"
)

var witnessCmd = &command{
	name:    "witness",
	summary: "run a C2SP tlog-witness that cosigns logs' checkpoints",
	usage: `Usage: sealog witness [--config FILE] [--key FILE] [--name NAME] [--state DIR]
                      [--listen ADDR] [--log VKEY]... [-v]
       sealog witness keygen --name NAME [-o FILE] [--config FILE]
       sealog witness add-log [--config FILE] VKEY|FILE.pub

Serves the C2SP tlog-witness protocol (docs/WITNESS.md): POST
/add-checkpoint cosigns a log's checkpoint (Ed25519 cosignature/v1) once
it is proven consistent with the last one it cosigned for that log, and
GET /<sha256(origin)>/checkpoint serves that checkpoint. Per log it keeps
only the latest cosigned checkpoint, in the state directory, written
durably before it answers.

'keygen' makes the witness's key (FILE, mode 0600, default witness.key;
its verifier key in FILE.pub, for the logs' policies), and with --config
a configuration file naming it. 'add-log' adds a log to follow, by its
verifier key, to the configuration file. Restart the witness to follow it.

Flags (each overrides the configuration file's line of the same name):
    --config FILE   the configuration file (default witness.conf)
    --key FILE      the witness's secret key
    --name NAME     the witness's name (must be the key's)
    --state DIR     the state directory (default witness-state)
    --listen ADDR   the address to listen on (default 127.0.0.1:7380;
                    port 0 picks a free one; the address is printed)
    --log VKEY      a log to follow besides the configured ones (repeatable)
    -v              log every refused request
`,
}

func init() { witnessCmd.run = runWitness }

func runWitness(e *env, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "keygen":
			return runWitnessKeygen(e, args[1:])
		case "add-log":
			return runWitnessAddLog(e, args[1:])
		}
	}
	c := witnessCmd
	fl := newFlags(c)
	var logs stringsFlag
	config := fl.String("config", "witness.conf", "")
	key := fl.String("key", "", "")
	name := fl.String("name", "", "")
	state := fl.String("state", "", "")
	listen := fl.String("listen", "", "")
	verbose := fl.Bool("v", false, "")
	fl.Var(&logs, "log", "")
	pos, err := parseArgs(e, c, fl, args)
	if err != nil {
		return err
	}
	if err := wantArgs(c, pos, 0, 0, ""); err != nil {
		return err
	}
	cfg, err := readWitnessConfig(*config, !flagGiven(fl, "config"))
	if err != nil {
		return err
	}
	set := func(dst *string, v, def string) {
		if v != "" {
			*dst = v
		} else if *dst == "" {
			*dst = def
		}
	}
	set(&cfg.key, *key, "")
	set(&cfg.name, *name, "")
	set(&cfg.state, *state, "witness-state")
	set(&cfg.listen, *listen, "127.0.0.1:7380")
	cfg.logs = append(cfg.logs, logs...)
	if cfg.key == "" {
		return usageError("witness: no key: give --key FILE or a 'key' line in %s", *config).withHint("make one with 'sealog witness keygen --name NAME --config %s'", *config)
	}
	cs, err := loadCosigner(cfg.key)
	if err != nil {
		return err
	}
	if cfg.name != "" && cfg.name != cs.Name() {
		return usageError("witness: the name %q is not the key's name %q", cfg.name, cs.Name())
	}
	wlogs, err := witnessLogs(cfg.logs)
	if err != nil {
		return err
	}
	if len(wlogs) == 0 {
		return usageError("witness: no log to follow").withHint("add one with 'sealog witness add-log --config %s LOG.pub' or --log VKEY", *config)
	}
	st, err := witness.OpenState(cfg.state)
	if err != nil {
		return ioError("%v", err)
	}
	defer st.Close()
	w, err := witness.New(witness.Config{Cosigner: cs, State: st, Logs: wlogs, Logger: newLogger(e, *verbose)})
	if err != nil {
		return ioError("%v", err)
	}
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return ioError("listening on %s: %v", cfg.listen, err).withHint("choose another address with --listen (port 0 picks a free one)")
	}
	fmt.Fprintf(e.stdout, "witness:      %s\nverifier key: %s\nstate:        %s\n", cs.Name(), cs.VerifierKey(), cfg.state)
	for _, l := range wlogs {
		fmt.Fprintf(e.stdout, "follows:      %s\n", l.Origin)
	}
	fmt.Fprintf(e.stdout, "listening on http://%s\n", ln.Addr())
	hs := &http.Server{Handler: w, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case <-e.ctx.Done():
	case err := <-errc:
		return ioError("serving: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := hs.Shutdown(ctx); err != nil {
		return ioError("stopping: %v", err)
	}
	fmt.Fprintln(e.stdout, "stopped")
	return nil
}

// flagGiven reports whether the flag was set on the command line.
func flagGiven(fl *flag.FlagSet, name string) bool {
	found := false
	fl.Visit(func(f *flag.Flag) {
		if f.Name == name {
			found = true
		}
	})
	return found
}

var witnessKeygenCmd = &command{name: "witness keygen", usage: witnessCmd.usage}

func runWitnessKeygen(e *env, args []string) error {
	c := witnessKeygenCmd
	fl := newFlags(c)
	out := fl.String("o", "witness.key", "")
	name := fl.String("name", "", "")
	config := fl.String("config", "", "")
	pos, err := parseArgs(e, c, fl, args)
	if err != nil {
		return err
	}
	if err := wantArgs(c, pos, 0, 0, ""); err != nil {
		return err
	}
	if *name == "" {
		return usageError("witness keygen: --name is required (a URL-like name such as witness.example.com/w1)")
	}
	skey, vkey, err := checkpoint.GenerateCosigner(nil, *name)
	if err != nil {
		return usageError("witness keygen: --name %q: %v", *name, err)
	}
	for _, p := range []string{*out, *out + ".pub"} {
		if _, err := os.Lstat(p); err == nil {
			return ioError("%s already exists; refusing to overwrite a key", p).withHint("choose another file with -o")
		}
	}
	if err := durable.WriteNew(*out, []byte(skey+"\n"), 0o600); err != nil {
		return ioError("writing %s: %v", *out, pathErr(err))
	}
	if err := durable.WriteNew(*out+".pub", []byte(vkey+"\n"), 0o644); err != nil {
		return ioError("writing %s.pub: %v", *out, pathErr(err))
	}
	fmt.Fprintf(e.stderr, "wrote the witness's secret key to %s (mode 0600)\nwrote its verifier key to %s.pub (for the logs' witness policies)\n", *out, *out)
	if *config != "" {
		cfg, err := readWitnessConfig(*config, true)
		if err != nil {
			return err
		}
		if cfg.key != "" {
			return ioError("%s already names a key (%s); not changing it", *config, cfg.key)
		}
		cfg.name, cfg.key = *name, absPath(*out)
		if err := cfg.write(); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "wrote %s\n", *config)
	}
	fmt.Fprintln(e.stdout, vkey)
	return nil
}

var witnessAddLogCmd = &command{name: "witness add-log", usage: witnessCmd.usage}

func runWitnessAddLog(e *env, args []string) error {
	c := witnessAddLogCmd
	fl := newFlags(c)
	config := fl.String("config", "witness.conf", "")
	pos, err := parseArgs(e, c, fl, args)
	if err != nil {
		return err
	}
	if err := wantArgs(c, pos, 1, 1, "the log's verifier key (VKEY or FILE.pub)"); err != nil {
		return err
	}
	vkey, err := loadVerifierKey(pos[0])
	if err != nil {
		return err
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return usageError("witness add-log: %q is not a log verifier key: %v", pos[0], err)
	}
	cfg, err := readWitnessConfig(*config, true)
	if err != nil {
		return err
	}
	if slices.Contains(cfg.logs, vkey) {
		return ioError("%s already follows the log %s with this key", *config, v.Name())
	}
	cfg.logs = append(cfg.logs, vkey)
	if err := cfg.write(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "added the log %s to %s; restart the witness to follow it\n", v.Name(), *config)
	return nil
}

// absPath is p made absolute (p itself if that fails).
func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
