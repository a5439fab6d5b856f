package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"

	"encoding/json"
	"fmt"
	"github.com/sealog/sealog/layout"
	"math/rand/v2"

	"github.com/sealog/sealog"
)

// demoEvents makes n realistic audit events, the same on every run:
// logins (some failed), document reads and updates, role grants, exports
// and logouts, by a handful of people and services.
func demoEvents(n int) []sealog.Event {
	r := rand.New(rand.NewPCG(2026, 11))
	people := []string{"alice@example.com", "bob@example.com", "carol@example.com", "dan@example.com", "erin@example.com"}
	docs := []string{"contracts/2026-014.pdf", "hr/salaries-2026.xlsx", "finance/q3-forecast.xlsx", "legal/nda-acme.docx", "customers/eu-export.csv"}
	roles := []string{"finance.viewer", "hr.editor", "admin", "support.agent"}
	ips := []string{"203.0.113.9", "198.51.100.23", "192.0.2.44", "203.0.113.77"}
	rows := []int{1200, 350, 80, 5000}
	evs := make([]sealog.Event, n)
	for i := range evs {
		who := people[r.IntN(len(people))]
		var ev sealog.Event
		var p map[string]any
		switch k := r.IntN(20); {
		case k < 5:
			ev = sealog.Event{Kind: "user.login", Actor: who, Resource: "app/console"}
			p = map[string]any{"ip": ips[r.IntN(len(ips))], "mfa": r.IntN(4) != 0, "user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Safari/605.1.15"}
		case k < 6:
			ev = sealog.Event{Kind: "user.login_failed", Actor: who, Resource: "app/console"}
			p = map[string]any{"ip": ips[r.IntN(len(ips))], "reason": "bad password", "attempt": 1 + r.IntN(3)}
		case k < 12:
			ev = sealog.Event{Kind: "document.read", Actor: who, Resource: docs[r.IntN(len(docs))]}
			p = map[string]any{"request_id": fmt.Sprintf("req-%06x", r.IntN(1<<24)), "bytes": 1000 + r.IntN(900000)}
		case k < 15:
			ev = sealog.Event{Kind: "document.update", Actor: who, Resource: docs[r.IntN(len(docs))]}
			p = map[string]any{"fields": []string{"status", "amount", "owner"}[:1+r.IntN(3)], "version": 2 + r.IntN(40), "comment": "quarterly review"}
		case k < 16:
			ev = sealog.Event{Kind: "role.grant", Actor: "alice@example.com", Resource: "user/" + who}
			p = map[string]any{"role": roles[r.IntN(len(roles))], "ticket": fmt.Sprintf("SEC-%d", 1000+r.IntN(9000)), "expires": "2026-12-31"}
		case k < 18:
			ev = sealog.Event{Kind: "data.export", Actor: who, Resource: docs[4]}
			p = map[string]any{"rows": rows[r.IntN(len(rows))], "format": "csv", "destination": "s3://exports-eu/" + fmt.Sprintf("%d.csv", r.IntN(100000))}
		default:
			ev = sealog.Event{Kind: "user.logout", Actor: who, Resource: "app/console"}
			p = map[string]any{"session_minutes": 1 + r.IntN(240)}
		}
		b, _ := json.Marshal(p)
		ev.Payload = json.RawMessage(b)
		evs[i] = ev
	}
	return evs
}

// copyDir copies the regular files of a log directory, recursively.
func copyDir(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() || d.Name() == layout.LockFile {
			return nil
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(target)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
}

func indent(b []byte) string {
	var out bytes.Buffer
	for _, l := range bytes.SplitAfter(b, []byte("\n")) {
		if len(l) > 0 {
			out.WriteString("    ")
			out.Write(l)
		}
	}
	return out.String()
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	for _, r := range s {
		if !(r == '/' || r == '.' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
		}
	}
	return s
}
