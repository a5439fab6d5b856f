package format

// scanObject reports whether p is exactly one JSON object (RFC 8259, no
// surrounding white space) and whether it is compact (no white space
// outside strings). It is the append path's validator: encoding/json's
// Valid costs three times as much on a typical event, and this one also
// answers the compactness question in the same pass. A fuzz test holds it
// to encoding/json's verdict. UTF-8 is checked separately.
func scanObject(p []byte) (valid, compact bool) {
	if len(p) < 2 || p[0] != '{' {
		return false, false
	}
	compact = true
	// The open brackets, '{' or '['. Events are shallow: a small array
	// on the stack (zeroing a maxDepth one cost more than the scan), grown
	// on the heap for deep ones.
	var small [64]byte
	stack := small[:]
	depth := 0
	i := 0
	// expect: what may come next.
	const (
		value = iota // a value
		key          // a key (or '}' right after '{')
		colon        // ':'
		after        // ',' or a closing bracket
	)
	expect := value
	first := false // just after '{' or '[': a closing bracket is allowed
	for i < len(p) {
		c := p[i]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			compact = false
			i++
			continue
		}
		switch expect {
		case value, key:
			if first && (c == '}' && stack[depth-1] == '{' || c == ']' && stack[depth-1] == '[') {
				depth--
				first = false
				i++
				expect = after
				if depth == 0 {
					return trailingSpaceOnly(p[i:]), compact && i == len(p)
				}
				continue
			}
			first = false
			if expect == key {
				if c != '"' {
					return false, false
				}
				n := scanString(p[i:])
				if n < 0 {
					return false, false
				}
				i += n
				expect = colon
				continue
			}
			switch {
			case c == '{' || c == '[':
				if depth == maxDepth {
					return false, false
				}
				if depth == len(stack) {
					stack = append(stack, make([]byte, len(stack))...)
				}
				stack[depth] = c
				depth++
				i++
				first = true
				if c == '{' {
					expect = key
				} else {
					expect = value
				}
				continue
			case c == '"':
				n := scanString(p[i:])
				if n < 0 {
					return false, false
				}
				i += n
			case c == '-' || c >= '0' && c <= '9':
				n := scanNumber(p[i:])
				if n < 0 {
					return false, false
				}
				i += n
			case c == 't' && hasLit(p[i:], "true"):
				i += 4
			case c == 'f' && hasLit(p[i:], "false"):
				i += 5
			case c == 'n' && hasLit(p[i:], "null"):
				i += 4
			default:
				return false, false
			}
			if depth == 0 {
				return false, false // the top level must be an object
			}
			expect = after
		case colon:
			if c != ':' {
				return false, false
			}
			i++
			expect = value
		case after:
			switch {
			case c == ',':
				i++
				if stack[depth-1] == '{' {
					expect = key
				} else {
					expect = value
				}
			case c == '}' && stack[depth-1] == '{' || c == ']' && stack[depth-1] == '[':
				depth--
				i++
				if depth == 0 {
					return trailingSpaceOnly(p[i:]), compact && i == len(p)
				}
			default:
				return false, false
			}
		}
	}
	return false, false
}

// maxDepth bounds nesting, as encoding/json does (10000); events nested
// deeper than this are refused.
const maxDepth = 10000

func trailingSpaceOnly(p []byte) bool {
	for _, c := range p {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

func hasLit(p []byte, lit string) bool {
	return len(p) >= len(lit) && string(p[:len(lit)]) == lit
}

// scanString returns the length of the JSON string at the start of p
// (which begins with a quote), or -1.
func scanString(p []byte) int {
	for i := 1; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '"':
			return i + 1
		case c < 0x20:
			return -1
		case c == '\\':
			i++
			if i >= len(p) {
				return -1
			}
			switch p[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(p) {
					return -1
				}
				for _, h := range p[i+1 : i+5] {
					if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						return -1
					}
				}
				i += 4
			default:
				return -1
			}
		}
	}
	return -1
}

// scanNumber returns the length of the JSON number at the start of p, or -1.
func scanNumber(p []byte) int {
	i := 0
	if p[i] == '-' {
		i++
	}
	switch {
	case i < len(p) && p[i] == '0':
		i++
	case i < len(p) && p[i] >= '1' && p[i] <= '9':
		for i < len(p) && p[i] >= '0' && p[i] <= '9' {
			i++
		}
	default:
		return -1
	}
	if i < len(p) && p[i] == '.' {
		i++
		j := i
		for i < len(p) && p[i] >= '0' && p[i] <= '9' {
			i++
		}
		if i == j {
			return -1
		}
	}
	if i < len(p) && (p[i] == 'e' || p[i] == 'E') {
		i++
		if i < len(p) && (p[i] == '+' || p[i] == '-') {
			i++
		}
		j := i
		for i < len(p) && p[i] >= '0' && p[i] <= '9' {
			i++
		}
		if i == j {
			return -1
		}
	}
	return i
}
