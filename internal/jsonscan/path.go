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
