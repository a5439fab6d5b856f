package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/compat"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/tstoken"
	"github.com/sealog/sealog/verify"
)

var verifyCmd = &command{
	name:    "verify",
	summary: "verify a log (sealog, Spine, spanforge, immutable-logging)",
	usage: `Usage: sealog verify DIR [--key FILE.pub] [--keys FILE] [--checkpoint FILE]... [--policy FILE]
                     [--tsa-roots CA.pem]
                     [--state FILE [--full]] [--strict] [--all-signatures] [--all-problems]
                     [--json | -q | --sign-report KEY]
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
rules out that the log was cut back below its size. Repeatable. A log
whose key was rotated ('sealog key rotate') verifies with any key of its
chain, and the report lists each key and its entries.

--state FILE remembers the newest checkpoint verified: the first run
(FILE missing) verifies the whole log and saves it; each later run proves
that the log still extends it (a rollback or a fork is reported, with both
checkpoints and the consistency proof) and reads only the entries added
since (--full reads them all). FILE is replaced, atomically, only when the
log verifies.

The report says when it ran, with which sealog, and lists every input
with its SHA-256. --sign-report KEY prints the JSON report as a signed
note (C2SP signed-note), signed with the private key KEY (made by 'sealog
keygen'); 'sealog verify-report' checks it with KEY.pub. Hints go to
stderr. Without --key, a warning that the key came from the log goes to
stderr even with -q; --strict makes that, or a trust input kept inside
the log's directory, a failure (exit 1).

Without --format, a directory holding sealog.json is a sealog log; other
inputs are detected as Spine, spanforge or immutable-logging, and the
report says which.

Flags:
    --key K             sealog: verifier key file or text; spine: KEYID=HEX or HEX
                        (a bare HEX key takes its key_id from stream.meta.json's
                        initial_key_id, else from the first record). Repeatable for spine.
    --checkpoint FILE   a trusted checkpoint from outside the log (repeatable)
    --policy FILE       a witness policy (c2sp.org/tlog-policy): require a checkpoint
                        cosigned by its quorum (the log directory's "witnessed" file
                        or a --checkpoint), and check the log against it; the log's
                        key comes from the policy when --key is not given
    --state FILE        remember the newest checkpoint verified; check the log extends it
    --full              with --state: read every entry, not only the new ones
    --strict            fail unless the key and every trust input come from outside the log
    --sign-report KEY   print the JSON report as a note signed with the private key KEY
    --all-problems      list every problem in the text report (default: the first 20)
    --all-signatures    verify every batch signature, not only the ones needed
    --revocations FILE  sealog: a revocation statement ('sealog key revoke'); the log
                        fails if entries are covered only by the revoked key past its
                        point (repeatable)
    --witness KEY       sealog: a trusted witness's cosignature/v1 key: its cosignatures
                        on --checkpoint files made before a revocation still count
    --tsa-roots FILE    the CAs (PEM) of the time-stamping authorities you trust:
                        each RFC 3161 timestamp in the log must chain to one;
                        the report says before which time each range of
                        entries existed (docs/TIME.md)
    --format F          sealog, spine, spanforge or immutable-logging (default: detect)
    --keys FILE         sealog: trusted verifier keys, one a line (# comments): a
                        rotated log is valid if its chain of keys holds one of them;
                        spine: a keys.json, {"keys":[{"key_id","public_key"}]}
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

// verifyFlags are verify's flags. Every flag is declared in
// addVerifyFlags: a feature that adds one adds a field here and a line
// there.
type verifyFlags struct {
	keys, checkpoints, secrets         stringsFlag
	revocations, witnesses             stringsFlag
	keysFile, trust, anchor, format    string
	policy, tsaRoots                   string
	asJSON, quiet, allSigs, noProgress bool
	// state is --state FILE; full (--full) reads every entry even then.
	state string
	full  bool
	// strict (--strict) fails unless the key and every trust input came
	// from outside the log.
	strict bool
	// signReport is --sign-report KEY: print the JSON report as a signed
	// note.
	signReport string
	// allProblems (--all-problems) lists every problem in the text report.
	allProblems bool
	// args is the command line as given (for hints that repeat it).
	args []string
}

// addVerifyFlags declares verify's flags on fl.
func addVerifyFlags(fl *flag.FlagSet, f *verifyFlags) {
	fl.Var(&f.keys, "key", "")
	fl.Var(&f.checkpoints, "checkpoint", "")
	fl.Var(&f.secrets, "secret", "")
	fl.Var(&f.revocations, "revocations", "")
	fl.Var(&f.witnesses, "witness", "")
	fl.StringVar(&f.keysFile, "keys", "", "")
	fl.StringVar(&f.trust, "trust", "", "")
	fl.StringVar(&f.anchor, "anchor", "", "")
	fl.StringVar(&f.format, "format", "", "")
	fl.StringVar(&f.policy, "policy", "", "")
	fl.BoolVar(&f.asJSON, "json", false, "")
	fl.BoolVar(&f.quiet, "q", false, "")
	fl.BoolVar(&f.quiet, "quiet", false, "")
	fl.BoolVar(&f.allSigs, "all-signatures", false, "")
	fl.BoolVar(&f.noProgress, "no-progress", false, "")
	fl.StringVar(&f.state, "state", "", "")
	fl.BoolVar(&f.full, "full", false, "")
	fl.BoolVar(&f.strict, "strict", false, "")
	fl.StringVar(&f.signReport, "sign-report", "", "")
	fl.BoolVar(&f.allProblems, "all-problems", false, "")
	fl.StringVar(&f.tsaRoots, "tsa-roots", "", "")
}

// sealogOnly reports the sealog-only flags given, for legacy formats to
// refuse.
func (f *verifyFlags) sealogOnly() []string {
	var out []string
	for _, x := range []struct {
		name string
		set  bool
	}{{"--checkpoint", len(f.checkpoints) > 0}, {"--all-signatures", f.allSigs}, {"--state", f.state != ""},
		{"--full", f.full}, {"--strict", f.strict}, {"--sign-report", f.signReport != ""}, {"--tsa-roots", f.tsaRoots != ""}} {
		if x.set {
			out = append(out, x.name)
		}
	}
	return out
}

func runVerify(e *env, args []string) error {
	c := verifyCmd
	fl := newFlags(c)
	f := verifyFlags{args: args}
	addVerifyFlags(fl, &f)
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
	if f.signReport != "" && (f.asJSON || f.quiet) {
		return usageError("verify: --sign-report prints the signed JSON report; it excludes --json and -q")
	}
	if f.full && f.state == "" {
		return usageError("verify: --full is for --state (a run without --state reads every entry anyway)")
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
	case f.trust != "" || f.anchor != "" || len(f.secrets) > 0:
		return usageError("verify: --trust, --anchor and --secret are for other tools' logs; %s is a sealog log", pos[0]).
			withHint("a sealog log takes --key FILE.pub, --keys FILE and --checkpoint FILE")
	case len(f.keys) > 1:
		return usageError("verify: --key given %d times; for several trusted keys (a rotated log) use --keys FILE", len(f.keys))
	}
	dir := pos[0]
	started := time.Now()
	in := &inputSet{}
	opts := verify.Options{AllSignatures: f.allSigs}
	if f.keysFile != "" {
		ks, err := readTrustedKeys(f.keysFile)
		if err != nil {
			return err
		}
		opts.Keys = ks
	}
	if f.asJSON || f.signReport != "" || f.allProblems {
		opts.MaxProblems = maxJSONProblems
	}
	roots, err := loadTSARoots(f.tsaRoots)
	if err != nil {
		return err
	}
	opts.Timestamps = tstoken.Checker{Roots: roots}
	if len(f.keys) == 1 {
		k, err := loadVerifierKeyIn(f.keys[0], in)
		if err != nil {
			return err
		}
		opts.Key = k
	}
	src, name, origin, done, err := sealogSource(e, dir, firstKey(opts))
	if err != nil {
		return err
	}
	defer done()
	var from []string // the file each trusted checkpoint came from
	for _, p := range f.checkpoints {
		cks, err := readCheckpoints(p, origin, in)
		if err != nil {
			return err
		}
		opts.Checkpoints = append(opts.Checkpoints, cks...)
		for range cks {
			from = append(from, p)
		}
	}
	var wc *witnessCheck
	if f.policy != "" {
		var err error
		if wc, err = applyPolicy(f, dir, origin, &opts, &from); err != nil {
			return err
		}
	}
	if err := readRevocations(&opts, f.revocations, f.witnesses); err != nil {
		return err
	}
	var signer note.Signer
	if f.signReport != "" {
		k, err := loadSigner(e, c, f.signReport)
		if err != nil {
			return err
		}
		signer = k.Signer()
	}
	var saved *stateFile
	if f.state != "" {
		st, err := loadState(f.state, origin, in)
		if err != nil {
			return err
		}
		saved = st
	}
	if msgs := strictProblems(f, name, opts.Key, in); len(msgs) > 0 {
		return failError("--strict: %s", strings.Join(msgs, "; ")).
			withHint("give the verifier key from your own records (--key FILE.pub) and trust inputs kept outside the log")
	}
	run := &sealogRun{e: e, f: f, dir: name, opts: opts, saved: saved, started: started, src: src,
		openLog: func() (*sealog.Log, error) { return openDirLog(name) }}
	if loc, isDB, _ := databaseLog(dir); isDB {
		run.openLog = func() (*sealog.Log, error) { return openDatabase(e.ctx, loc, nil, false, sealog.Options{}) }
	}
	rep, err := run.verify(from)
	if err != nil {
		return err
	}
	format := orDefault(detected, "sealog (--format)")
	out := newVerifyReport(rep, name, format, in, f.strict, started)
	out.State = run.state
	if err := run.updateState(rep); err != nil {
		return err
	}
	switch {
	case signer != nil:
		if err := writeSignedReport(e.stdout, out, signer); err != nil {
			return err
		}
	case f.quiet:
	case f.asJSON:
		if detected != "" {
			fmt.Fprintf(e.stderr, "sealog: format: %s\n", detected)
		}
		if err := writeJSON(e.stdout, withWitnesses(out, wc)); err != nil {
			return err
		}
	default:
		if err := out.writeText(e.stdout, f.allProblems); err != nil {
			return err
		}
		if wc != nil {
			bw := bufio.NewWriter(e.stdout)
			wc.write(bw, rep.Valid)
			if err := bw.Flush(); err != nil {
				return err
			}
		}
	}
	if rep.KeyFromLog {
		// Said even with -q: a silent exit 0 must not hide that nothing
		// outside the log vouched for the key.
		fmt.Fprintln(e.stderr, "sealog: warning: verified with the key stored in the log itself: this proves only that the log is consistent with that key, not who signed it")
	}
	if !f.quiet {
		verifyHints(e, f, rep)
	}
	if !rep.Valid {
		return errFailedQuiet
	}
	if wc != nil && !wc.Quorum {
		return failError("verify: --policy %s: %s", f.policy, wc.Problem)
	}
	return nil
}

// maxJSONProblems is how many problems the JSON report lists: all of
// them, in practice (the count of any beyond is problems_omitted).
const maxJSONProblems = 1 << 20

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
