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

// skip consumes the bytes of an array inside a document from p[i] up to and
// including the next string start or bracket, and returns the index after
// them. Nothing below an array of a document is reported to the Handler, so
// only the nesting and strings are followed there.
//
// NOTE: the syntax between brackets inside such an array is not checked, so
// a malformed array element does not make the document fail.
func (s *Scanner) skip(p []byte, i int) int {
	j := i
	for j < len(p) && !isSkipStop(p[j]) {
		j++
	}
	if j == len(p) {
		return j
	}

	switch c := p[j]; c {
	case '"':
		s.st = stSkipString
	case '[', '{':
		s.push(c == '[')
	case ']', '}':
		array := c == ']'
		if s.depth == s.skipBase {
			s.closeContainer(p, j, array)
			break
		}
		if s.isArray(s.depth) != array {
			s.fail()
			break
		}
		s.depth--
	}
	return j + 1
}

// isSkipStop reports whether c is a byte that skip must act on.
func isSkipStop(c byte) bool {
	return c == '"' || c == '[' || c == ']' || c == '{' || c == '}'
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
