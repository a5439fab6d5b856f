package format

import (
	"math"
	"time"
)

// TimeLen is the length of the canonical time text:
// YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ, always nine fraction digits, always UTC.
const TimeLen = 30

// MaxTime is the latest time a leaf header can hold (int64 nanoseconds).
var MaxTime = time.Unix(0, math.MaxInt64).UTC()

// AppendTime appends the canonical text of ns (nanoseconds since the Unix
// epoch, 0 <= ns) to dst. Times before 1970 are not representable in a log.
func AppendTime(dst []byte, ns int64) []byte {
	if ns < 0 {
		panic("format: negative time")
	}
	days := ns / (86400 * 1e9)
	rem := ns % (86400 * 1e9)
	y, m, d := civilFromDays(days)
	sec := rem / 1e9
	frac := rem % 1e9
	dst = append4(dst, y)
	dst = append(dst, '-')
	dst = append2(dst, m)
	dst = append(dst, '-')
	dst = append2(dst, d)
	dst = append(dst, 'T')
	dst = append2(dst, int(sec/3600))
	dst = append(dst, ':')
	dst = append2(dst, int(sec/60%60))
	dst = append(dst, ':')
	dst = append2(dst, int(sec%60))
	dst = append(dst, '.')
	for div := int64(1e8); div > 0; div /= 10 {
		dst = append(dst, byte('0'+frac/div%10))
	}
	return append(dst, 'Z')
}

// ParseTime parses the canonical time text and returns nanoseconds since
// the Unix epoch. Any other spelling of the same instant is rejected, so a
// stored time has exactly one valid form.
func ParseTime(b []byte) (int64, error) {
	if len(b) != TimeLen || b[4] != '-' || b[7] != '-' || b[10] != 'T' ||
		b[13] != ':' || b[16] != ':' || b[19] != '.' || b[29] != 'Z' {
		return 0, errorf("time %q is not in the form YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ", b)
	}
	var f [7]int
	for i, span := range [7][2]int{{0, 4}, {5, 7}, {8, 10}, {11, 13}, {14, 16}, {17, 19}, {20, 29}} {
		v := 0
		for _, c := range b[span[0]:span[1]] {
			if c < '0' || c > '9' {
				return 0, errorf("time %q has a non-digit", b)
			}
			v = v*10 + int(c-'0')
		}
		f[i] = v
	}
	y, mo, d, h, mi, s, frac := f[0], f[1], f[2], f[3], f[4], f[5], f[6]
	if y < 1970 || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h > 23 || mi > 59 || s > 59 {
		return 0, errorf("time %q is out of range", b)
	}
	days := daysFromCivil(y, mo, d)
	secs := days*86400 + int64(h*3600+mi*60+s)
	if secs > math.MaxInt64/int64(time.Second) {
		return 0, errorf("time %q is after %s", b, MaxTime.Format(time.RFC3339))
	}
	ns := secs*1e9 + int64(frac)
	if ns < 0 {
		return 0, errorf("time %q is after %s", b, MaxTime.Format(time.RFC3339))
	}
	return ns, nil
}

func append2(dst []byte, v int) []byte {
	return append(dst, byte('0'+v/10), byte('0'+v%10))
}

func append4(dst []byte, v int) []byte {
	return append(dst, byte('0'+v/1000), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil and civilFromDays convert between proleptic Gregorian dates
// and days since 1970-01-01 (Howard Hinnant's algorithms), avoiding the cost
// of time.Date and time.Format on the hot path.
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

func civilFromDays(z int64) (y, m, d int) {
	z += 719468
	era := z / 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	m = int(mp + 3)
	if m > 12 {
		m -= 12
	}
	y = int(yoe + era*400)
	if m <= 2 {
		y++
	}
	return y, m, d
}
