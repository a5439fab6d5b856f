package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/server"
)

var serveCmd = &command{
	name:    "serve",
	summary: "run the HTTP API: receipts, entries, proofs, C2SP checkpoint and tiles",
	usage: `Usage: sealog serve [--data DIR] [--listen ADDR] [--store LOG] [--key FILE]
                    [--origin NAME] [--tokens FILE] [--tls-cert FILE --tls-key FILE]
                    [--public-reads] [--public-metrics] [--max-body N]
                    [--max-events N] [--rate R] [--burst B] [--config FILE] [-v]
                    [--policy FILE [--witness-wait DUR] [--witness-state FILE]]
                    [--tsa URL [--tsa-interval D] [--tsa-roots CA.pem]]

Serves the log over HTTP (docs/API.md): POST /v1/entries appends events
and answers signed receipts with inclusion proofs; the read endpoints serve
entries, proofs, and the log as a C2SP tiled log (/checkpoint, /tile/...).

Needs no setup. On first start it makes, in DIR (default ./sealog-data):
    log/               the log (the embedded file store)
    signer.key         a new signing key (mode 0600; signer.key.pub beside it)
    tokens.json        the tokens file, with one admin token, printed once
    idempotency.jsonl  the Idempotency-Key journal
and prints the verifier key and the admin token. Make more tokens with
'sealog token add'. It stops cleanly on SIGTERM or SIGINT: it stops
accepting, finishes the appends in flight, makes them durable, exits 0.

Flags:
    --data DIR         the server's directory (default ./sealog-data)
    --listen ADDR      the address to listen on (default 127.0.0.1:8080;
                       port 0 picks a free one; the address is printed)
    --store LOG        the log: a directory, postgres://… or sqlite:///…
                       (default DIR/log); made on first start
    --key FILE         the signer key (default $SEALOG_KEY, else
                       DIR/signer.key, made on first start), or
                       ssh-agent:FINGERPRINT for a key held in the ssh-agent
    --origin NAME      the origin of a key made on first start
                       (default <hostname>/audit)
    --tokens FILE      the tokens file (default DIR/tokens.json)
    --tls-cert FILE    serve HTTPS with this certificate (and --tls-key)
    --tls-key FILE     the certificate's private key
    --public-reads     serve the read endpoints without a token
    --public-metrics   serve /metrics without a token (default: admin role)
    --max-body N       the largest request body (default 8MiB)
    --max-events N     the most events in one request (default 10000)
    --rate R           requests per second per token (default 0: no limit)
    --burst B          a token's burst above the rate (default R)
    --config FILE      take flags from a JSON file: {"listen": "0.0.0.0:8443",
                       "store": "postgres://…", "public-reads": true, …}, members
                       named as the flags; flags given on the command line win
    -v                 log every failed request and the library's reports
    --policy FILE      a witness policy (c2sp.org/tlog-policy): after each
                       batch, submit the checkpoint to its witnesses and
                       keep their cosignatures (docs/WITNESS.md)
    --witness-wait DUR how long an append waits for the policy's quorum,
                       its receipts then proved in the cosigned checkpoint
                       (default 0: receipts do not wait)
    --witness-state FILE where the newest quorum-cosigned checkpoint is kept
                       (default: the file "witnessed" in the log directory,
                       or in DIR for a log in a database)
    --tsa URL          obtain an RFC 3161 timestamp over the checkpoints from
                       this TSA, stored in the log's timestamps/ (docs/TIME.md);
                       appends never wait for it
    --tsa-interval D   at most one timestamp per D (default 0: after every batch)
    --tsa-roots FILE   check each token against these CAs (PEM) before storing it
`,
}

func init() { serveCmd.run = runServe }

// serveFlags are the parsed flags of sealog serve.
type serveFlags struct {
	data, listen, store, key, origin, tokens, tlsCert, tlsKey string
	publicReads, publicMetrics, verbose                       bool
	maxBody, maxEvents                                        string
	policy, witnessState                                      string
	witnessWait                                               time.Duration
	rate                                                      float64
	burst                                                     int
	tsaURL, tsaRoots                                          string
	tsaInterval                                               time.Duration
}

func runServe(e *env, args []string) error {
	c := serveCmd
	fl := newFlags(c)
	var f serveFlags
	fl.StringVar(&f.data, "data", "sealog-data", "")
	fl.StringVar(&f.listen, "listen", "127.0.0.1:8080", "")
	fl.StringVar(&f.store, "store", "", "")
	fl.StringVar(&f.key, "key", "", "")
	fl.StringVar(&f.origin, "origin", "", "")
	fl.StringVar(&f.tokens, "tokens", "", "")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "")
	fl.StringVar(&f.tlsKey, "tls-key", "", "")
	fl.BoolVar(&f.publicReads, "public-reads", false, "")
	fl.BoolVar(&f.publicMetrics, "public-metrics", false, "")
	fl.StringVar(&f.maxBody, "max-body", "8MiB", "")
	fl.StringVar(&f.maxEvents, "max-events", "10000", "")
	fl.Float64Var(&f.rate, "rate", 0, "")
	fl.IntVar(&f.burst, "burst", 0, "")
	fl.BoolVar(&f.verbose, "v", false, "")
	fl.StringVar(&f.policy, "policy", "", "")
	fl.StringVar(&f.witnessState, "witness-state", "", "")
	fl.DurationVar(&f.witnessWait, "witness-wait", 0, "")
	fl.StringVar(&f.tsaURL, "tsa", "", "")
	fl.StringVar(&f.tsaRoots, "tsa-roots", "", "")
	fl.DurationVar(&f.tsaInterval, "tsa-interval", 0, "")
	config := fl.String("config", "", "")
	pos, err := parseArgs(e, c, fl, args)
	if err != nil {
		return err
	}
	if err := wantArgs(c, pos, 0, 0, ""); err != nil {
		return err
	}
	if *config != "" {
		if err := applyConfig(c.name, fl, *config); err != nil {
			return err
		}
	}
	maxBody, err := parseSize(f.maxBody)
	if err != nil {
		return usageError("serve: --max-body: %v", err)
	}
	var maxEvents int
	if _, err := fmt.Sscan(f.maxEvents, &maxEvents); err != nil || maxEvents < 1 {
		return usageError("serve: --max-events %q: want a number of events from 1", f.maxEvents)
	}
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return usageError("serve: --tls-cert and --tls-key go together")
	}
	if f.rate < 0 || f.burst < 0 {
		return usageError("serve: --rate and --burst must not be negative")
	}
	if err := os.MkdirAll(f.data, 0o700); err != nil {
		return ioError("making %s: %v", f.data, pathErr(err))
	}
	key, err := serveKey(e, c, &f)
	if err != nil {
		return err
	}
	lg := newLogger(e, f.verbose)
	lopts := sealog.Options{Key: key, Logger: lg}
	if err := serveTimestamper(&f, &lopts); err != nil {
		return err
	}
	l, where, size, err := openServeLog(e.ctx, &f, key, lopts)
	if err != nil {
		return err
	}
	defer l.Close() // a no-op after the Shutdown below
	tokens, err := serveTokens(e, &f)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	var wits server.Witnesses
	if f.policy != "" {
		wc, err := serveWitnesses(&f, l, reg, lg)
		if err != nil {
			return err
		}
		wctx, stopWitnesses := context.WithCancel(context.Background())
		defer stopWitnesses()
		go wc.Run(wctx)
		wits = wc
	}
	srv, err := server.New(e.ctx, server.Config{
		Witnesses: wits, WitnessWait: f.witnessWait, Registerer: reg,
		Log: l, Tokens: tokens, PublicReads: f.publicReads, PublicMetrics: f.publicMetrics,
		IdempotencyFile: filepath.Join(f.data, "idempotency.jsonl"),
		MaxBodyBytes:    maxBody, MaxEvents: maxEvents, RateLimit: f.rate, RateBurst: f.burst, Logger: lg,
	})
	if err != nil {
		return ioError("%v", err)
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		srv.Close()
		return ioError("listening on %s: %v", f.listen, err).withHint("choose another address with --listen (port 0 picks a free one)")
	}
	scheme := "http"
	if f.tlsCert != "" {
		scheme = "https"
	}
	fmt.Fprintf(e.stdout, "log:          %s (%d entries)\norigin:       %s\nverifier key: %s\nlistening on %s://%s\n",
		where, size, l.Origin(), l.VerifierKey(), scheme, ln.Addr())
	return serveUntilDone(e, srv, l, ln, &f)
}

// serveUntilDone serves until the command's context ends (SIGTERM,
// SIGINT), then shuts down in order: stop accepting and finish the
// requests in flight, close the idempotency journal, make the log
// durable.
func serveUntilDone(e *env, srv *server.Server, l *sealog.Log, ln net.Listener, f *serveFlags) error {
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() {
		if f.tlsCert != "" {
			errc <- hs.ServeTLS(ln, f.tlsCert, f.tlsKey)
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	var serveErr error
	select {
	case <-e.ctx.Done():
	case serveErr = <-errc:
	}
	// Within main's grace period after a signal (signalGrace, 30 s).
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	herr := hs.Shutdown(ctx)
	serr := srv.Close()
	lerr := l.Shutdown(ctx)
	switch {
	case serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed):
		return ioError("serving: %v", serveErr)
	case herr != nil:
		return ioError("stopping the HTTP server: %v", herr)
	case serr != nil:
		return ioError("%v", serr)
	case lerr != nil:
		return ioError("closing the log: %v", trimSealog(lerr))
	}
	fmt.Fprintln(e.stdout, "stopped: every acknowledged append is durable")
	return nil
}

// serveKey loads the signer key (--key, $SEALOG_KEY, DIR/signer.key), or
// makes DIR/signer.key on first start and prints its verifier key.
func serveKey(e *env, c *command, f *serveFlags) (*sealog.Key, error) {
	if f.key != "" || e.getenv("SEALOG_KEY") != "" {
		origin := f.origin
		if meta, err := requireLog(serveStore(f)); err == nil {
			origin = meta.Origin
		}
		return loadSignerFor(e, c, f.key, origin)
	}
	path := filepath.Join(f.data, "signer.key")
	if _, err := os.Stat(path); err == nil {
		return loadSigner(e, c, path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, ioError("key file %s: %v", path, pathErr(err))
	}
	origin := f.origin
	if origin == "" {
		origin = defaultOrigin()
	}
	vkey, err := sealog.WriteKeyFiles(path, origin)
	if err != nil {
		return nil, ioError("making a signing key: %v", err).withHint("choose an origin with --origin NAME (like example.com/audit)")
	}
	fmt.Fprintf(e.stdout, "created a signing key in %s (mode 0600); its verifier key, for auditors:\n    %s\n", path, vkey)
	return loadSigner(e, c, path)
}

// serveStore returns the log's place: --store, or DIR/log.
func serveStore(f *serveFlags) string {
	if f.store != "" {
		return f.store
	}
	return filepath.Join(f.data, "log")
}

// openServeLog opens the log that --store names (DIR/log by default; a
// directory or a database URL), creating it on first start, and returns
// it with a description for messages and its size.
func openServeLog(ctx context.Context, f *serveFlags, key *sealog.Key, opts sealog.Options) (*sealog.Log, string, uint64, error) {
	spec := serveStore(f)
	if loc, ok, err := databaseLog(spec); err != nil {
		return nil, "", 0, err
	} else if ok {
		l, err := openDatabase(ctx, loc, key, true, opts)
		if err != nil {
			return nil, "", 0, err
		}
		size, err := logSize(ctx, l, loc.String())
		if err != nil {
			l.Close()
			return nil, "", 0, err
		}
		return l, loc.String(), size, nil
	}
	spec = logPath(spec)
	l, err := sealog.Open(spec, opts)
	if err != nil {
		if kerr := keyError(err); kerr != nil {
			return nil, "", 0, kerr
		}
		return nil, "", 0, openError(spec, err)
	}
	size, err := logSize(ctx, l, spec)
	if err != nil {
		l.Close()
		return nil, "", 0, err
	}
	return l, spec, size, nil
}

// serveTokens opens the tokens file, or makes it on first start with one
// admin token, printed once.
func serveTokens(e *env, f *serveFlags) (*server.Tokens, error) {
	path := f.tokens
	if path == "" {
		path = filepath.Join(f.data, "tokens.json")
	}
	t, err := server.OpenTokens(path)
	if err == nil {
		return t, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, tokensError(path, err)
	}
	if t, err = server.CreateTokens(path); err != nil {
		return nil, ioError("%v", err)
	}
	tok, _, err := t.Add("admin", server.RoleAdmin, time.Now())
	if err != nil {
		return nil, ioError("%v", err)
	}
	fmt.Fprintf(e.stdout, "created %s with an admin token; it is shown only now, keep it:\n    %s\n", path, tok)
	return t, nil
}

// tokensError turns an error of OpenTokens into a CLI error.
func tokensError(path string, err error) error {
	if errors.Is(err, server.ErrTokensPermissions) {
		return ioError("%v", err).withHint("chmod 600 %s", path)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return ioError("tokens file %s does not exist", path).withHint("'sealog token add NAME --tokens %s' creates it", path)
	}
	return ioError("%v", err)
}
