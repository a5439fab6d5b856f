package main

import (
	"bufio"
	"bytes"
	"strconv"

	"github.com/sealog/sealog/verify"
)

// fixProblemLines corrects the segment and line of "content" problems.
//
// verify.Verify (verify/check.go, the "content" case) records such a
// problem at the place of the line where it concluded, two lines after
// the changed entry, not at the changed entry's own line. Until the
// library is fixed, this finds the entry's line by scanning its segment
// (for at most a few problems).
func fixProblemLines(dir string, rep *verify.Report) {
	segs, err := verify.Dir(dir).Segments()
	if err != nil {
		return
	}
	fixed := 0
	for i := range rep.Problems {
		p := &rep.Problems[i]
		if p.Kind != "content" || p.Seq == nil || fixed >= 10 {
			continue
		}
		fixed++
		seq := *p.Seq
		si := -1
		for j, s := range segs {
			if s.First <= seq {
				si = j
			}
		}
		if si < 0 {
			continue
		}
		if name, line, ok := findLine(segs[si], seq); ok {
			p.Segment, p.Line = name, line
		} else if si > 0 {
			if name, line, ok := findLine(segs[si-1], seq); ok {
				p.Segment, p.Line = name, line
			}
		}
	}
}

// findLine finds the line of entry seq in segment s.
func findLine(s verify.Segment, seq uint64) (string, int, bool) {
	rc, err := s.Open()
	if err != nil {
		return "", 0, false
	}
	defer rc.Close()
	prefix := strconv.AppendUint([]byte(`{"seq":`), seq, 10)
	prefix = append(prefix, ',')
	br := bufio.NewReaderSize(rc, 1<<20)
	for n := 1; ; n++ {
		l, err := br.ReadSlice('\n')
		if bytes.HasPrefix(l, prefix) {
			return s.Name, n, true
		}
		for err == bufio.ErrBufferFull {
			_, err = br.ReadSlice('\n')
		}
		if err != nil {
			return "", 0, false
		}
	}
}
