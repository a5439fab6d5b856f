package main

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/sealog/sealog/server"
)

var tokenCmd = &command{
	name:    "token",
	summary: "add, list or revoke the bearer tokens of 'sealog serve'",
	usage: `Usage: sealog token add NAME [--role ROLE] [--data DIR | --tokens FILE] [--json]
       sealog token list [--data DIR | --tokens FILE] [--json]
       sealog token revoke ID|NAME [--data DIR | --tokens FILE]

Manages the tokens file of 'sealog serve' (default ./sealog-data/tokens.json,
mode 0600). The file keeps each token's id, name, role and SHA-256, never
the token itself: 'add' prints the new token once, and it cannot be shown
again. A running server rereads the file within a second, so a revoked
token stops working at once.

Roles:
    append   POST /v1/entries
    read     the read endpoints (entries, proofs, checkpoint, tiles)
    admin    everything, including /metrics

Flags:
    --role ROLE     the new token's role (default append)
    --data DIR      the server's directory (default ./sealog-data)
    --tokens FILE   the tokens file (default DIR/tokens.json)
    --json          add: print {"id","name","role","token"};
                    list: print [{"id","name","role","created","revoked"}]
`,
}

func init() { tokenCmd.run = runToken }

func runToken(e *env, args []string) error {
	c := tokenCmd
	fl := newFlags(c)
	role := fl.String("role", "append", "")
	data := fl.String("data", "sealog-data", "")
	path := fl.String("tokens", "", "")
	asJSON := fl.Bool("json", false, "")
	pos, err := parseArgs(e, c, fl, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageError("token: missing add, list or revoke").withHint("run 'sealog token -h' for usage")
	}
	if *path == "" {
		*path = filepath.Join(*data, "tokens.json")
	}
	switch pos[0] {
	case "add":
		if err := wantArgs(c, pos, 2, 2, "NAME (what the token is for, like ci or billing-service)"); err != nil {
			return err
		}
		r, err := server.ParseRole(*role)
		if err != nil {
			return usageError("token: --role: %v", err)
		}
		return tokenAdd(e, *path, pos[1], r, *asJSON)
	case "list":
		if err := wantArgs(c, pos, 1, 1, ""); err != nil {
			return err
		}
		return tokenList(e, *path, *asJSON)
	case "revoke":
		if err := wantArgs(c, pos, 2, 2, "ID or NAME (as 'sealog token list' shows)"); err != nil {
			return err
		}
		t, err := server.OpenTokens(*path)
		if err != nil {
			return tokensError(*path, err)
		}
		ti, err := t.Revoke(pos[1], time.Now())
		if err != nil {
			return ioError("%v", err).withHint("'sealog token list' shows the tokens")
		}
		fmt.Fprintf(e.stdout, "revoked token %s (%s, role %s)\n", ti.ID, ti.Name, ti.Role)
		return nil
	}
	return usageError("token: unknown subcommand %q (want add, list or revoke)", pos[0])
}

func tokenAdd(e *env, path, name string, role server.Role, asJSON bool) error {
	t, err := server.OpenTokens(path)
	if errors.Is(err, fs.ErrNotExist) {
		t, err = server.CreateTokens(path)
	}
	if err != nil {
		return tokensError(path, err)
	}
	tok, ti, err := t.Add(name, role, time.Now())
	if err != nil {
		return ioError("%v", err)
	}
	if asJSON {
		return writeJSON(e.stdout, map[string]string{"id": ti.ID, "name": ti.Name, "role": string(ti.Role), "token": tok})
	}
	fmt.Fprintf(e.stdout, "added token %s (%s, role %s); it is shown only now, keep it:\n    %s\n", ti.ID, ti.Name, ti.Role, tok)
	return nil
}

// tokenListItem is one token as 'token list --json' prints it.
type tokenListItem struct {
	ID      string     `json:"id"`
	Name    string     `json:"name"`
	Role    string     `json:"role"`
	Created time.Time  `json:"created"`
	Revoked *time.Time `json:"revoked,omitempty"`
}

func tokenList(e *env, path string, asJSON bool) error {
	t, err := server.OpenTokens(path)
	if err != nil {
		return tokensError(path, err)
	}
	list := t.List()
	if asJSON {
		out := make([]tokenListItem, len(list))
		for i, ti := range list {
			out[i] = tokenListItem{ID: ti.ID, Name: ti.Name, Role: string(ti.Role), Created: ti.Created, Revoked: ti.Revoked}
		}
		return writeJSON(e.stdout, out)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tROLE\tCREATED\tREVOKED")
	for _, ti := range list {
		rev := "-"
		if ti.Revoked != nil {
			rev = ti.Revoked.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", ti.ID, ti.Name, ti.Role, ti.Created.Format(time.RFC3339), rev)
	}
	return tw.Flush()
}
