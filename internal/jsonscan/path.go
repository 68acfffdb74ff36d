package jsonscan

// MaxPathLen is the number of object levels, counted from a document, whose
// keys the scanner records. Members deeper than that are never reported.
const MaxPathLen = 4

// MaxKeyLen is the longest key the scanner records. A longer key, or one
// that contains an escape sequence, never matches any path.
const MaxKeyLen = 64

// Path is the key path from a document to the member being reported. It is
// valid only during the [Handler] call that receives it.
type Path struct {
	s *Scanner
	n int
}

// Len returns the number of keys in p.
func (p Path) Len() int { return p.n }

// Key returns the i-th key of p, unescaped bytes as they appeared in the
// input, or nil when the key was too long or contained an escape sequence.
func (p Path) Key(i int) []byte {
	if i < 0 || i >= p.n || p.s.keyLen[i] < 0 {
		return nil
	}
	return p.s.keys[i][:p.s.keyLen[i]]
}

// Is reports whether p consists of exactly keys, in order.
func (p Path) Is(keys ...string) bool {
	if len(keys) != p.n {
		return false
	}
	for i, k := range keys {
		if string(p.Key(i)) != k || p.s.keyLen[i] < 0 {
			return false
		}
	}
	return true
}

// String returns p as keys joined with dots, for tests and messages.
func (p Path) String() string {
	var b []byte
	for i := range p.n {
		if i > 0 {
			b = append(b, '.')
		}
		b = append(b, p.Key(i)...)
	}
	return string(b)
}

// memberPath returns the path of the member whose value begins now, and
// false when it is too deep or below an array inside the document.
func (s *Scanner) memberPath() (Path, bool) {
	level := s.depth - s.docDepth
	if level >= MaxPathLen {
		return Path{}, false
	}
	for d := s.docDepth; d <= s.depth; d++ {
		if s.isArray(d) {
			return Path{}, false
		}
	}
	return Path{s: s, n: level + 1}, true
}

func (s *Scanner) beginKey() {
	s.inKey = true
	s.st = stString
	s.keyLevel = s.depth - s.docDepth
	if s.docDepth > 0 && s.keyLevel < MaxPathLen {
		s.keyLen[s.keyLevel] = 0
	}
}

func (s *Scanner) appendKey(b []byte) {
	if !s.inKey || s.docDepth == 0 || s.keyLevel >= MaxPathLen || s.keyLen[s.keyLevel] < 0 {
		return
	}
	n := s.keyLen[s.keyLevel]
	if n+len(b) > MaxKeyLen {
		s.keyLen[s.keyLevel] = -1
		return
	}
	copy(s.keys[s.keyLevel][n:], b)
	s.keyLen[s.keyLevel] = n + len(b)
}

// escapeKey marks the current key unusable, because matching keys with
// escape sequences would need them decoded.
func (s *Scanner) escapeKey() {
	if s.inKey && s.docDepth > 0 && s.keyLevel < MaxPathLen {
		s.keyLen[s.keyLevel] = -1
	}
}
