package compat

import "time"

// parseISOTimeNS reads an ISO 8601 / RFC 3339 time as Python's
// datetime.fromisoformat does for what the Spine SDK writes:
// YYYY-MM-DD[T ]HH:MM[:SS[.f…]][Z|±HH:MM[:SS]|±HHMM]. Without an offset the
// time is UTC. It returns unix_seconds × 10^9 + microseconds × 1000: digits
// after the sixth are dropped.
func parseISOTimeNS(s string) (int64, bool) {
	num := func(i, n int) (int, bool) {
		if i+n > len(s) {
			return 0, false
		}
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			if !isDigit(c) {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	year, ok1 := num(0, 4)
	month, ok2 := num(5, 2)
	day, ok3 := num(8, 2)
	if !ok1 || !ok2 || !ok3 || s[4] != '-' || s[7] != '-' || len(s) < 16 {
		return 0, false
	}
	if c := s[10]; c != 'T' && c != 't' && c != ' ' {
		return 0, false
	}
	hour, ok1 := num(11, 2)
	minute, ok2 := num(14, 2)
	if !ok1 || !ok2 || s[13] != ':' {
		return 0, false
	}
	i, sec, micro := 16, 0, 0
	if i < len(s) && s[i] == ':' {
		var ok bool
		if sec, ok = num(i+1, 2); !ok {
			return 0, false
		}
		i += 3
		if i < len(s) && (s[i] == '.' || s[i] == ',') {
			i++
			digits := 0
			for i < len(s) && isDigit(s[i]) {
				if digits < 6 {
					micro = micro*10 + int(s[i]-'0')
				}
				digits++
				i++
			}
			if digits == 0 {
				return 0, false
			}
			for ; digits < 6; digits++ {
				micro *= 10
			}
		}
	}
	offset := 0
	if i < len(s) {
		switch s[i] {
		case 'Z', 'z':
			i++
		case '+', '-':
			sign := 1
			if s[i] == '-' {
				sign = -1
			}
			oh, ok := num(i+1, 2)
			if !ok {
				return 0, false
			}
			i += 3
			om, os := 0, 0
			if i < len(s) && s[i] == ':' {
				i++
			}
			if i < len(s) {
				if om, ok = num(i, 2); !ok {
					return 0, false
				}
				i += 2
				if i < len(s) && s[i] == ':' {
					if os, ok = num(i+1, 2); !ok {
						return 0, false
					}
					i += 3
				}
			}
			if oh > 23 || om > 59 || os > 59 {
				return 0, false
			}
			offset = sign * (oh*3600 + om*60 + os)
		default:
			return 0, false
		}
	}
	if i != len(s) || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 59 {
		return 0, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC)
	if t.Day() != day {
		return 0, false // e.g. February 30
	}
	return (t.Unix()-int64(offset))*1e9 + int64(micro)*1000, true
}
