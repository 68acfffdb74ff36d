package jsonscan

// skipLiterals returns the index of the delimiter that ends the literal at
// p[i], or len(p). Inside an array whose elements are not being captured, a
// comma followed by another literal does not end the run: such elements need
// no state change, so a vector of numbers is scanned in this one loop.
func (s *Scanner) skipLiterals(p []byte, i int) int {
	inArray := s.isArray(s.depth) && !(s.capturing && s.capDepth == s.depth)

	j := i
	for {
		for j < len(p) && !isDelimiter(p[j]) {
			j++
		}
		if !inArray || j == len(p) || p[j] != ',' {
			return j
		}

		next := j + 1
		for next < len(p) && isSpace(p[next]) {
			next++
		}
		if next == len(p) || !isLiteralStart(p[next]) {
			return j
		}
		j = next + 1
	}
}

// isLiteralStart reports whether c begins a number or a true, false or null
// literal.
func isLiteralStart(c byte) bool {
	return c == '-' || (c >= '0' && c <= '9') || c == 't' || c == 'f' || c == 'n'
}

// skip consumes the bytes of an array inside a document from p[i], in state
// stSkip, stSkipString or stSkipEscape, until that array closes or p ends,
// and returns the index after them. Nothing below an array of a document is
// reported to the Handler, so only the nesting and strings are followed
// there, in this one loop.
//
// NOTE: the syntax between brackets inside such an array is not checked, so
// a malformed array element does not make the document fail.
func (s *Scanner) skip(p []byte, i int) int {
	switch s.st {
	case stSkipEscape:
		i++
		fallthrough
	case stSkipString:
		end, closed := skipString(p, i)
		if !closed {
			s.st = skipStateAt(p, end)
			return len(p)
		}
		s.st = stSkip
		i = end
	}

	for i < len(p) {
		c := p[i]
		i++
		if !isSkipStop(c) {
			continue
		}

		switch c {
		case '"':
			end, closed := skipString(p, i)
			if !closed {
				s.st = skipStateAt(p, end)
				return len(p)
			}
			i = end
		case '[', '{':
			if !s.push(c == '[') {
				return i
			}
		case ']', '}':
			array := c == ']'
			if s.depth == s.skipBase {
				s.closeContainer(p, i-1, array)
				return i
			}
			if s.isArray(s.depth) != array {
				s.fail()
				return i
			}
			s.depth--
		}
	}
	return i
}

// skipString returns the index after the closing quote of the string whose
// contents start at p[i], and true, or the index where p ends inside it and
// false. That index is len(p), or len(p)+1 when p ends with a backslash
// whose escaped byte is still to come.
func skipString(p []byte, i int) (int, bool) {
	for i < len(p) {
		i = indexStringStop(p, i, len(p))
		if i == len(p) {
			break
		}
		if p[i] == '"' {
			return i + 1, true
		}
		i += 2
	}
	return i, false
}

// skipStateAt returns the state in which skipString left a string open at
// end: past len(p) only after a backslash that ends p.
func skipStateAt(p []byte, end int) state {
	if end > len(p) {
		return stSkipEscape
	}
	return stSkipString
}

// Bit c-64 of skipStopsHigh (64 <= c < 128) is set when byte c is a bracket
// that skip must act on. The only other such byte is '"'.
const skipStopsHigh uint64 = 1<<('['-64) | 1<<(']'-64) | 1<<('{'-64) | 1<<('}'-64)

// isSkipStop reports whether c is a byte that skip must act on. Like
// isDelimiter, it tests a bit mask because it runs once per skipped byte.
func isSkipStop(c byte) bool {
	if c < 64 {
		return c == '"'
	}
	return c < 128 && skipStopsHigh>>(c-64)&1 != 0
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

// Bit c of delimitersLow (c < 64) or bit c-64 of delimitersHigh (64 <= c <
// 128) is set when byte c ends a number or a true, false or null literal.
const (
	delimitersLow  uint64 = 1<<' ' | 1<<'\t' | 1<<'\n' | 1<<'\r' | 1<<',' | 1<<':' | 1<<'"'
	delimitersHigh uint64 = 1<<('}'-64) | 1<<(']'-64) | 1<<('{'-64) | 1<<('['-64)
)

// isDelimiter reports whether c ends a literal. It tests a bit mask rather
// than comparing c with each delimiter, because it runs once per byte of
// every number and numbers fill embedding vectors.
func isDelimiter(c byte) bool {
	switch {
	case c < 64:
		return delimitersLow>>c&1 != 0
	case c < 128:
		return delimitersHigh>>(c-64)&1 != 0
	default:
		return false
	}
}
