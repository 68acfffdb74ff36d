package jsonscan

// member scans an object member whose key starts with the quote at p[i]:
// the key, the colon and the first byte of the value, which it begins, and
// then what endMember takes. It returns the index where Write resumes and
// true. It returns false and changes nothing when the key has an escape
// sequence or p ends inside the member, and the state machine in Write
// then scans it byte by byte. Members are most of what the scanner reads,
// so this path skips the state changes between their parts.
func (s *Scanner) member(p []byte, i int) (int, bool) {
	keyEnd := indexStringStop(p, i+1, len(p))
	if keyEnd == len(p) || p[keyEnd] != '"' {
		return 0, false
	}

	value := keyEnd + 1
	for value < len(p) && isSpace(p[value]) {
		value++
	}
	if value == len(p) || p[value] != ':' {
		return 0, false
	}
	value++
	for value < len(p) && isSpace(p[value]) {
		value++
	}
	if value == len(p) {
		return 0, false
	}

	s.setKey(p[i+1 : keyEnd])
	s.beginValue(p, value)
	return s.endMember(p, value+1), true
}

// endMember scans on from p[i], just after the first byte of a member's
// value, when that value is a string without escape sequences or a literal
// that ends in p. It ends the value, consumes a comma after it, and returns
// the index where Write resumes.
func (s *Scanner) endMember(p []byte, i int) int {
	switch s.st {
	case stString:
		end := indexStringStop(p, i, len(p))
		if end == len(p) || p[end] != '"' {
			return i
		}
		i = end + 1
		s.endValue(p, i)
	case stLiteral:
		end := s.skipLiterals(p, i)
		if end == len(p) {
			return i
		}
		i = end
		s.endValue(p, i)
	default:
		return i
	}

	for i < len(p) && isSpace(p[i]) {
		i++
	}
	if i < len(p) && p[i] == ',' && s.st == stAfterValue {
		s.st = stKey
		i++
	}
	return i
}

// setKey records key, which has no escape sequence, as the key at the
// current level of the document.
func (s *Scanner) setKey(key []byte) {
	level := s.depth - s.docDepth
	s.keyLevel = level
	if s.docDepth == 0 || level >= MaxPathLen {
		return
	}
	if len(key) > MaxKeyLen {
		s.keyLen[level] = -1
		return
	}
	copy(s.keys[level][:], key)
	s.keyLen[level] = len(key)
}
