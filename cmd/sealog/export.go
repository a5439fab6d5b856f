package main

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/bundle"
	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/client"
)

var exportCmd = &command{
	name:    "export",
	summary: "write an evidence bundle of chosen entries",
	usage: `Usage: sealog export DIR --seq LIST -o BUNDLE [--size M | --witnessed | --timestamped] [--force]
       sealog export --url URL --key FILE.pub [--token T] --seq LIST -o BUNDLE [--size M] [--force]

Writes an evidence bundle: only the entries in LIST (their exact stored
lines), an inclusion proof for each, the signed checkpoint they are proven
against, and the log's origin and verifier key. 'sealog verify-bundle'
checks it offline without the rest of the log, which it does not reveal:
proofs hold only sibling hashes, and every entry's body hash is salted.
docs/BUNDLE.md specifies the format.

With --url the entries come from a running 'sealog serve': every entry,
proof and checkpoint it answers is checked against the verifier key given
(--key, required) before it goes into the bundle.

LIST is seqs and inclusive ranges: 5,17,40-45.

Flags:
    --seq LIST   the entries to export (at most 100000)
    -o BUNDLE    the file to write (- for stdout)
    --size M     prove against the checkpoint at size M (the end of a batch)
                 instead of the latest
    --witnessed  DIR only: prove against the newest checkpoint cosigned by the
                 witness policy's quorum ('sealog serve --policy'); the bundle
                 then carries the cosignatures (a checkpoint that has some
                 always does)
    --timestamped  prove against the newest checkpoint with an RFC 3161
                 timestamp, and put the timestamp in the bundle (a bundle
                 always carries its checkpoint's timestamp if there is one)
    --force      overwrite BUNDLE if it exists
    --url URL    the server to read from, instead of DIR
    --key K      with --url: the log's verifier key (a .pub file or the key text)
    --token T    with --url: a token with the read role (default $SEALOG_TOKEN;
                 none if the server's reads are public)
`,
}

func init() { exportCmd.run = runExport }

func runExport(e *env, args []string) error {
	c := exportCmd
	fl := newFlags(c)
	list := fl.String("seq", "", "")
	out := fl.String("o", "", "")
	fl.StringVar(out, "output", "", "")
	size := fl.Uint64("size", 0, "")
	timestamped := fl.Bool("timestamped", false, "")
	force := fl.Bool("force", false, "")
	srvURL := fl.String("url", "", "")
	vkeyArg := fl.String("key", "", "")
	token := fl.String("token", "", "")
	witnessed := fl.Bool("witnessed", false, "")
	pos, err := parseArgs(e, c, fl, args)
	if err != nil {
		return err
	}
	if *srvURL != "" {
		if err := wantArgs(c, pos, 0, 0, ""); err != nil {
			return usageError("export: --url and DIR exclude each other")
		}
	} else if err := wantArgs(c, pos, 1, 1, "DIR (the log)"); err != nil {
		return err
	} else if *vkeyArg != "" || *token != "" {
		return usageError("export: --key and --token go with --url")
	}
	if *size != 0 && *timestamped {
		return usageError("export: --size and --timestamped exclude each other")
	}
	if *witnessed && *timestamped {
		return usageError("export: --witnessed and --timestamped exclude each other")
	}
	if *list == "" {
		return usageError("export: missing --seq LIST (like 5,17,40-45)")
	}
	if *out == "" {
		return usageError("export: missing -o BUNDLE (the file to write)")
	}
	seqs, err := parseSeqList(*list, bundle.MaxEntries)
	if err != nil {
		return usageError("export: --seq %s: %v", *list, err)
	}
	var (
		src bundle.Source
		dir string
		lg  *sealog.Log // the log, for a directory
	)
	if *srvURL != "" {
		cl, err := exportClient(e, *srvURL, *vkeyArg, *token)
		if err != nil {
			return err
		}
		defer cl.Close()
		src, dir = cl, *srvURL
	} else {
		dir = pos[0]
		l, err := openReader(dir)
		if err != nil {
			return err
		}
		defer l.Close()
		if *witnessed {
			w := witnessedNote(dir, l)
			ck, err := checkpoint.ParseUnverified(w)
			if w == nil || err != nil || *size != 0 {
				return ioError("%s has no checkpoint cosigned by witnesses", dir).withHint("run 'sealog serve --policy FILE' over the log, or leave out --witnessed")
			}
			*size = ck.Size
		}
		n, err := logSize(e.ctx, l, dir)
		if err != nil {
			return err
		}
		for _, s := range seqs {
			if s >= n {
				if _, err := readEntry(e.ctx, l, dir, s); err != nil {
					return err
				}
			}
		}
		src, lg = l, l
	}
	if *witnessed && lg == nil {
		return usageError("export: --witnessed reads the log directory's witnessed checkpoint; it does not go with --url")
	}
	b, err := bundle.Build(e.ctx, src, seqs, bundle.Options{Size: *size, Timestamped: *timestamped})
	if err != nil {
		switch {
		case errors.Is(err, sealog.ErrCorrupt):
			return failError("%s", trimSealog(err)).withHint("the log was changed; run 'sealog verify %s'", dir)
		case errors.Is(err, sealog.ErrEmpty):
			return ioError("the log in %s is empty", dir)
		case *size != 0:
			return usageError("export: %s", trimSealog(err))
		}
		return ioError("%s", trimSealog(err))
	}
	if lg != nil {
		b.Checkpoint = string(withCosignatures(dir, lg, sealog.Checkpoint{Note: []byte(b.Checkpoint)}))
	}
	data := b.Marshal()
	if *out == "-" {
		_, err := e.stdout.Write(data)
		return err
	}
	if err := bundle.WriteFile(*out, data, *force); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return ioError("%s already exists", *out).withHint("choose another name, or pass --force to overwrite it")
		}
		return ioError("writing %s: %v", *out, pathErr(err))
	}
	count := len(b.Entries) // Build adds the erasure record of an erased entry
	fmt.Fprintf(e.stdout, "wrote %s: %d entr%s (%s%s), proven against the checkpoint of size %d\n", *out, count, map[bool]string{true: "y", false: "ies"}[count == 1], formatSeqList(seqs),
		map[bool]string{true: ", with the erasure records of the erased ones", false: ""}[count > len(seqs)], checkpointSize(b))
	fmt.Fprintf(e.stdout, "check it with: sealog verify-bundle %s --key FILE.pub\n", *out)
	return nil
}

func checkpointSize(b *bundle.Bundle) uint64 {
	res := b.Verify("")
	return res.Checkpoint.Size
}

// exportClient returns a client of the server at url that checks every
// answer against the verifier key vkeyArg.
func exportClient(e *env, url, vkeyArg, token string) (*client.Client, error) {
	if vkeyArg == "" {
		return nil, usageError("export: --url needs --key FILE.pub: the bundle's entries are checked against it")
	}
	vkey, err := loadVerifierKey(vkeyArg)
	if err != nil {
		return nil, err
	}
	if token == "" {
		token = e.getenv("SEALOG_TOKEN")
	}
	cl, err := client.New(client.Config{URL: url, Token: token, VerifierKey: vkey})
	if err != nil {
		return nil, usageError("export: %s", strings.TrimPrefix(err.Error(), "client: "))
	}
	return cl, nil
}
