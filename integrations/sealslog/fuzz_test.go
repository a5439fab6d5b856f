package sealslog_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/integrations/sealslog"
)

// capture is an Appender that keeps the events it is given.
type capture struct{ evs []sealog.Event }

func (c *capture) Append(ctx context.Context, ev sealog.Event) (sealog.Receipt, error) {
	c.evs = append(c.evs, ev)
	return sealog.Receipt{}, nil
}

func (c *capture) AppendBatch(ctx context.Context, evs []sealog.Event) ([]sealog.Receipt, error) {
	c.evs = append(c.evs, evs...)
	return make([]sealog.Receipt, len(evs)), nil
}

// FuzzPayload: whatever keys, values and messages a record carries (an
// attacker's User-Agent, say), the payload is one valid JSON object that
// gives each string back (invalid UTF-8 as U+FFFD).
func FuzzPayload(f *testing.F) {
	f.Add("msg", "key", "value", "group")
	f.Add("", "", "\x00\xff\"\\\n\u2028", "")
	f.Add("m", "msg", "v", "time")
	f.Fuzz(func(t *testing.T, msg, key, value, group string) {
		c := &capture{}
		h := sealslog.New(c, nil)
		r := slog.NewRecord(time.Unix(0, 1), slog.LevelInfo, msg, 0)
		r.AddAttrs(slog.String(key, value), slog.Group(group, slog.String(key, value), slog.Int("n", 1)))
		if err := h.Handle(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		p := c.evs[0].Payload.(json.RawMessage)
		var m map[string]any
		if err := json.Unmarshal(p, &m); err != nil {
			t.Fatalf("payload %q: %v", p, err)
		}
		if utf8.ValidString(msg) && m["msg"] != msg {
			t.Fatalf("msg %q, want %q (payload %s)", m["msg"], msg, p)
		}
		if !utf8.Valid(p) {
			t.Fatalf("payload %q is not UTF-8", p)
		}
		if g, ok := m[group].(map[string]any); ok && group != "" && key != "" && key != group && key != "n" && utf8.ValidString(key) && utf8.ValidString(value) && !strings.Contains(group, "\xff") {
			if utf8.ValidString(group) && g[key] != value {
				t.Fatalf("group %q key %q: %v, want %q (payload %s)", group, key, g[key], value, p)
			}
		}
	})
}
