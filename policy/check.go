package policy

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/sealog/sealog/checkpoint"
)

// ErrNoQuorum is wrapped by Check's error when the checkpoint's valid
// cosignatures do not make up the policy's quorum.
var ErrNoQuorum = errors.New("the witnesses' cosignatures do not make up the policy's quorum")

// Vouch is one witness's valid cosignature on a checkpoint.
type Vouch struct {
	Witness *Witness
	Time    time.Time // the cosignature's timestamp
}

// Verdict is what Check found on one cosigned checkpoint.
type Verdict struct {
	Checkpoint checkpoint.Checkpoint
	// Vouched lists the policy's witnesses whose cosignature verifies, in
	// the policy's order.
	Vouched []Vouch
	// Quorum says whether they make up the quorum.
	Quorum bool
}

// Check verifies a signed checkpoint note against the policy: the log's
// signature (by logKey, or when that is nil by one of the policy's logs),
// then every cosignature line by one of the policy's witnesses (others
// are ignored), then the quorum. It returns the verdict and, when the
// quorum is not met, an error wrapping ErrNoQuorum; a note that is
// malformed or not validly signed by the log is an error without verdict.
func (p *Policy) Check(msg []byte, logKey note.Verifier) (*Verdict, error) {
	logs := []note.Verifier{logKey}
	if logKey == nil {
		logs = logs[:0]
		for _, l := range p.Logs {
			logs = append(logs, l.Verifier)
		}
	}
	if len(logs) == 0 {
		return nil, errors.New("policy: no log key to check the checkpoint's signature with (the policy lists no log)")
	}
	var ck checkpoint.Checkpoint
	var n *checkpoint.Note
	var err error
	for _, v := range logs {
		if ck, n, err = checkpoint.Verify(msg, v, v.Name()); err == nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("policy: the checkpoint: %w", err)
	}
	vd := &Verdict{Checkpoint: ck}
	got := map[*Witness]bool{}
	for _, w := range p.Witnesses {
		for _, s := range n.Sigs {
			if s.Name != w.Verifier.Name() || s.KeyHash != w.Verifier.KeyHash() {
				continue
			}
			if t, ok := w.Verifier.Check(n.Text, s.Sig); ok && !got[w] {
				got[w] = true
				vd.Vouched = append(vd.Vouched, Vouch{Witness: w, Time: t})
			}
		}
	}
	vd.Quorum = p.Quorum.satisfied(got)
	if !vd.Quorum {
		return vd, fmt.Errorf("policy: checkpoint of size %d: %w (%d of the policy's witnesses cosigned it)", ck.Size, ErrNoQuorum, len(vd.Vouched))
	}
	return vd, nil
}

// Satisfied reports whether the witnesses in got make up the quorum.
func (p *Policy) Satisfied(got map[*Witness]bool) bool { return p.Quorum.satisfied(got) }

// satisfied evaluates a group; a nil group ("quorum none") always is.
func (g *Group) satisfied(got map[*Witness]bool) bool {
	if g == nil {
		return true
	}
	if g.Witness != nil {
		return got[g.Witness]
	}
	k := 0
	for _, m := range g.Members {
		if m.satisfied(got) {
			k++
		}
	}
	return k >= g.Threshold
}

// Witness returns the policy's witness of that name, or nil.
func (p *Policy) Witness(name string) *Witness {
	for _, w := range p.Witnesses {
		if w.Name == name {
			return w
		}
	}
	return nil
}
