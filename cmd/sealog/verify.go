package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sealog/sealog/compat"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/tstoken"
	"github.com/sealog/sealog/verify"
)

var verifyCmd = &command{
	name:    "verify",
	summary: "verify a log (sealog, Spine, spanforge, immutable-logging)",
	usage: `Usage: sealog verify DIR [--key FILE.pub] [--checkpoint FILE]... [--tsa-roots CA.pem] [--all-signatures] [--json | -q]
       sealog verify --format spine DIR [--key KEYID=HEX]... [--keys FILE] [--trust FILE] [--anchor FILE] [--json | -q]
       sealog verify --format spanforge FILE [--secret S]... [--trust FILE] [--anchor FILE] [--json | -q]
       sealog verify --format immutable-logging LOGFILE [--anchor FILE] [--json | -q]

Verifies a log without trusting its writer and prints a report: VALID or
TAMPERED, what was checked, the first invalid entry with its seq, segment
file and line, every gap, and whether truncation was ruled out.

For a sealog log, --key is the verifier key from your own records (a .pub
file or the key text). Without it the key stored in the log is used, which
proves only that the log is consistent with that key. --checkpoint is a
checkpoint saved earlier ('sealog checkpoint DIR > FILE'), a file of
receipts (JSON lines with a "checkpoint" member) or a proof file; each
rules out that the log was cut back below its size. Repeatable.

Without --format, a directory holding sealog.json is a sealog log; other
inputs are detected as Spine, spanforge or immutable-logging, and the
report says which.

Flags:
    --key K             sealog: verifier key file or text; spine: KEYID=HEX or HEX
                        (a bare HEX key takes its key_id from stream.meta.json's
                        initial_key_id, else from the first record). Repeatable for spine.
    --checkpoint FILE   a trusted checkpoint from outside the log (repeatable)
    --all-signatures    verify every batch signature, not only the ones needed
    --tsa-roots FILE    the CAs (PEM) of the time-stamping authorities you trust:
                        each RFC 3161 timestamp in the log must chain to one;
                        the report says before which time each range of
                        entries existed (docs/TIME.md)
    --format F          sealog, spine, spanforge or immutable-logging (default: detect)
    --keys FILE         spine: a keys.json, {"keys":[{"key_id","public_key"}]}
    --trust FILE        spine/spanforge: what the verifier trusts, shaped like a
                        fixture's verify_with: {"keys":[...],"server_key":{...}}
                        or {"secret":"...","key_map":{...},"secrets":[...]}
    --anchor FILE       facts recorded outside the log, {"entries":N,"last_sha256":"..."}:
                        rules out truncation and rewrites of legacy logs
    --secret S          spanforge: an HMAC secret (repeatable: the first starts the
                        chain, the others are candidates after key rotations);
                        default $SPANFORGE_HMAC_SECRET
    --json              print the report as JSON
    -q                  print nothing; the exit code says it all

Exit status: 0 valid, 1 invalid (tampered, truncated, wrong key), 2 usage
error, 3 the input cannot be read or is not a log.
`,
}

func init() { verifyCmd.run = runVerify }

// verifyFlags are verify's flags.
type verifyFlags struct {
	keys, checkpoints, secrets         stringsFlag
	keysFile, trust, anchor, format    string
	tsaRoots                           string
	asJSON, quiet, allSigs, noProgress bool
}

func runVerify(e *env, args []string) error {
	c := verifyCmd
	fl := newFlags(c)
	var f verifyFlags
	fl.Var(&f.keys, "key", "")
	fl.Var(&f.checkpoints, "checkpoint", "")
	fl.Var(&f.secrets, "secret", "")
	fl.StringVar(&f.keysFile, "keys", "", "")
	fl.StringVar(&f.trust, "trust", "", "")
	fl.StringVar(&f.anchor, "anchor", "", "")
	fl.StringVar(&f.format, "format", "", "")
	fl.BoolVar(&f.asJSON, "json", false, "")
	fl.BoolVar(&f.quiet, "q", false, "")
	fl.BoolVar(&f.quiet, "quiet", false, "")
	fl.BoolVar(&f.allSigs, "all-signatures", false, "")
	fl.BoolVar(&f.noProgress, "no-progress", false, "")
	fl.StringVar(&f.tsaRoots, "tsa-roots", "", "")
	pos, err := parseArgs(e, c, fl, args)
	if err != nil {
		return err
	}
	if err := wantArgs(c, pos, 1, -1, "the log to verify (DIR or FILE)"); err != nil {
		return err
	}
	if f.asJSON && f.quiet {
		return usageError("verify: --json and -q exclude each other")
	}
	path := pos[0]
	detected := ""
	name := strings.ToLower(f.format)
	if _, isDB, err := databaseLog(path); err != nil {
		return err
	} else if isDB && name == "" {
		name, detected = "sealog", "sealog (a database)"
	}
	if name == "" {
		if _, err := os.Stat(path); err != nil {
			return ioError("%s: %v", path, pathErr(err)).withHint("check the path")
		}
		if _, err := os.Lstat(filepath.Join(path, layout.MetadataFile)); err == nil {
			name, detected = "sealog", "sealog (the directory holds sealog.json)"
		} else if looksDestroyed(path, &f) {
			name, detected = "sealog", "sealog (what is left of one: segments or a checkpoint, no sealog.json)"
		} else {
			lf, derr := compat.Detect(path)
			if derr != nil {
				if fi, err := os.Stat(path); err == nil && fi.IsDir() {
					return ioError("%s is not a sealog log (it has no sealog.json), and not a log sealog can verify: %v", path, derr).
						withHint("give --format (sealog, spine, spanforge, immutable-logging), or create a log with 'sealog init'")
				}
				return ioError("%s: cannot tell its format: %v", path, derr).
					withHint("give --format spine, spanforge or immutable-logging")
			}
			name, detected = string(lf), fmt.Sprintf("%s (detected)", lf)
		}
	}
	if name == "sealog" || name == "sealog/v1" {
		return verifySealog(e, &f, pos, detected)
	}
	lf, err := compat.ParseFormat(name)
	if err != nil {
		return usageError("verify: --format %q: %v", f.format, err).withHint("use sealog, spine, spanforge or immutable-logging")
	}
	if detected == "" {
		detected = string(lf)
	}
	return verifyLegacy(e, &f, lf, pos, detected)
}

// verifySealog verifies a sealog log.
func verifySealog(e *env, f *verifyFlags, pos []string, detected string) error {
	c := verifyCmd
	switch {
	case len(pos) > 1:
		return wantArgs(c, pos, 1, 1, "")
	case f.trust != "" || f.anchor != "" || f.keysFile != "" || len(f.secrets) > 0:
		return usageError("verify: --trust, --anchor, --keys and --secret are for other tools' logs; %s is a sealog log", pos[0]).
			withHint("a sealog log takes --key FILE.pub and --checkpoint FILE")
	case len(f.keys) > 1:
		return usageError("verify: a sealog log has one key: --key given %d times", len(f.keys))
	}
	dir := pos[0]
	opts := verify.Options{AllSignatures: f.allSigs}
	roots, err := loadTSARoots(f.tsaRoots)
	if err != nil {
		return err
	}
	opts.Timestamps = tstoken.Checker{Roots: roots}
	if len(f.keys) == 1 {
		k, err := loadVerifierKey(f.keys[0])
		if err != nil {
			return err
		}
		opts.Key = k
	}
	src, name, origin, done, err := sealogSource(e, dir, opts.Key)
	if err != nil {
		return err
	}
	defer done()
	var from []string // the file each trusted checkpoint came from
	for _, p := range f.checkpoints {
		cks, err := readCheckpoints(p, origin)
		if err != nil {
			return err
		}
		opts.Checkpoints = append(opts.Checkpoints, cks...)
		for range cks {
			from = append(from, p)
		}
	}
	var prog *progress
	if e.stderrTTY && !f.asJSON && !f.quiet && !f.noProgress {
		prog = newProgress(e.stderr, "verifying")
		opts.Progress = prog.update
	}
	rep, err := verify.Verify(e.ctx, src, opts)
	prog.finish()
	if err != nil {
		var ie *verify.InputError
		switch {
		case e.ctx.Err() != nil:
			return ioError("interrupted")
		case errors.As(err, &ie) && strings.HasPrefix(ie.What, "trusted checkpoint "):
			n, _ := strconv.Atoi(strings.TrimPrefix(ie.What, "trusted checkpoint "))
			if n >= 1 && n <= len(from) {
				return ioError("--checkpoint %s: %v", from[n-1], ie.Err)
			}
			return ioError("%v", err)
		case errors.Is(err, layout.ErrNotLog):
			return ioError("%s is not a sealog log: %v", dir, err).withHint("create one with 'sealog init %s --key FILE'", dir)
		}
		return ioError("%s: %v", name, err)
	}
	switch {
	case f.quiet:
	case f.asJSON:
		if detected != "" {
			fmt.Fprintf(e.stderr, "sealog: format: %s\n", detected)
		}
		if err := writeJSON(e.stdout, rep); err != nil {
			return err
		}
	default:
		bw := bufio.NewWriter(e.stdout)
		if err := rep.WriteText(bw, verify.TextOptions{Name: name}); err != nil {
			return err
		}
		fmt.Fprintf(bw, "\nformat:         %s\n", orDefault(detected, "sealog (--format)"))
		if rep.KeyFromLog {
			fmt.Fprintf(bw, "\nTo prove who signed the log: sealog verify %s --key FILE.pub\n", dir)
		}
		if !rep.TruncationChecked {
			fmt.Fprintf(bw, "To rule out truncation: sealog verify %s --checkpoint SAVED.ckpt (saved earlier with 'sealog checkpoint')\n", dir)
		}
		if err := bw.Flush(); err != nil {
			return err
		}
	}
	if !rep.Valid {
		return errFailedQuiet
	}
	return nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
