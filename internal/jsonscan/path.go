package jsonscan

import "unicode/utf8"

// MaxPathLen is the number of object levels, counted from a document, whose
// keys the scanner records. Members deeper than that are never reported.
const MaxPathLen = 4

// MaxKeyLen is the longest key the scanner records, in bytes after its
// escape sequences are decoded. A longer key, or one with an invalid escape
// sequence, never matches any path.
const MaxKeyLen = 64

// Path is the key path from a document to the member being reported. It is
// valid only during the [Handler] call that receives it.
type Path struct {
	s *Scanner
	n int
}

// Len returns the number of keys in p.
func (p Path) Len() int { return p.n }

// Key returns the i-th key of p with its escape sequences decoded, or nil
// when the key was too long or had an invalid escape sequence.
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
	// Below an array of a document no value begins here, because skip
	// consumes the whole array, so only the current level can be an array.
	if s.isArray(s.depth) {
		return Path{}, false
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

// escapeKeyByte decodes the byte after a backslash in the current key. A
// "\u" escape goes on in stKeyUnicode; an invalid escape makes the key
// unusable.
func (s *Scanner) escapeKeyByte(c byte) {
	switch c {
	case '"', '\\', '/':
		s.appendKey([]byte{c})
	case 'b':
		s.appendKey([]byte{'\b'})
	case 'f':
		s.appendKey([]byte{'\f'})
	case 'n':
		s.appendKey([]byte{'\n'})
	case 'r':
		s.appendKey([]byte{'\r'})
	case 't':
		s.appendKey([]byte{'\t'})
	case 'u':
		s.st = stKeyUnicode
		s.hexDigits, s.hexRune = 0, 0
	default:
		s.escapeKey()
	}
}

// appendKeyHex adds the hex digit c to the "\u" escape being read in the
// current key, and appends the character to the key after the fourth
// digit. It returns false, after making the key unusable, when c is not a
// hex digit. A surrogate half decodes to U+FFFD, which no path contains.
func (s *Scanner) appendKeyHex(c byte) bool {
	var digit rune
	switch {
	case c >= '0' && c <= '9':
		digit = rune(c - '0')
	case c >= 'a' && c <= 'f':
		digit = rune(c-'a') + 10
	case c >= 'A' && c <= 'F':
		digit = rune(c-'A') + 10
	default:
		s.escapeKey()
		return false
	}

	s.hexRune = s.hexRune<<4 | digit
	s.hexDigits++
	if s.hexDigits == 4 {
		var encoded [utf8.UTFMax]byte
		s.appendKey(utf8.AppendRune(encoded[:0], s.hexRune))
		s.st = stString
	}
	return true
}

// escapeKey marks the current key unusable.
func (s *Scanner) escapeKey() {
	if s.inKey && s.docDepth > 0 && s.keyLevel < MaxPathLen {
		s.keyLen[s.keyLevel] = -1
	}
}
