package jsonscan

import "bytes"

// maxShortString is how many bytes of a string the scanner searches with
// indexStringStop for its end before it switches to bytes.IndexByte.
const maxShortString = 32

// MaxNesting is the deepest nesting of arrays and objects the scanner
// follows. Deeper input is treated as a syntax error.
const MaxNesting = 512

// Handler receives what a [Scanner] finds, on the goroutine that calls
// Scanner.Write or Scanner.Reset.
type Handler interface {
	// Member is called when the value of an object member inside a document
	// begins, with the member's key path and the value's first byte. It
	// returns the maximum number of bytes of the value to capture, or 0 to
	// capture none. Members inside a value being captured are not reported.
	Member(p Path, first byte) int

	// Value reports the raw bytes of a value that Member asked to capture,
	// cut to the requested length when truncated is true. raw is valid only
	// during the call.
	Value(p Path, raw []byte, truncated bool)

	// EndDocument reports the end of a document: complete is true when its
	// closing brace arrived, false when a syntax error or Reset ended it.
	EndDocument(complete bool)
}

type state uint8

const (
	stValue       state = iota // expecting a value, or at the top level between values
	stArrayStart               // after '[': a value or ']'
	stObjectStart              // after '{': a key or '}'
	stKey                      // after ',' in an object: a key
	stColon                    // after a key: ':'
	stString                   // inside a string
	stEscape                   // after a backslash inside a string
	stLiteral                  // inside a number, true, false or null
	stAfterValue               // after a value inside a container: ',' or a closing bracket
	stError                    // after a syntax error: ignore input until Reset
	stSkip                     // inside an array of a document, outside strings
	stSkipString               // inside a string inside such an array
	stSkipEscape               // after a backslash inside such a string
	stKeyUnicode               // inside the 4 hex digits of a \u escape in a key
)

// Scanner is an incremental JSON scanner. The zero value is not usable; call
// [New]. A Scanner is not safe for concurrent use.
type Scanner struct {
	h  Handler
	st state

	// depth is the number of open containers; arrays has bit d set when the
	// container at depth d+1 is an array.
	depth  int
	arrays [MaxNesting / 64]uint64

	// docDepth is the depth of the current document's object, 0 outside one.
	docDepth int

	// inKey reports whether the current string is an object key; keyLevel
	// is its level below the document, and keys and keyLen record each
	// level's key (keyLen -1: unusable).
	inKey    bool
	keyLevel int
	keys     [MaxPathLen][MaxKeyLen]byte
	keyLen   [MaxPathLen]int

	// The capture of one member value: it began at depth capDepth, in the
	// current input at capStart, and keeps at most capLimit bytes.
	capturing bool
	capDepth  int
	capStart  int
	capLimit  int
	capTrunc  bool
	capBuf    []byte

	// skipBase is the depth of the array that stSkip is skipping.
	skipBase int

	// hexDigits counts the digits of a key's "\u" escape read so far, and
	// hexRune is their value.
	hexDigits int
	hexRune   rune
}

// New returns a scanner that reports to h.
func New(h Handler) *Scanner {
	return &Scanner{h: h}
}

// Idle reports whether the input so far is a whole number of complete values
// with no syntax error.
func (s *Scanner) Idle() bool {
	return s.st == stValue && s.depth == 0
}

// InDocument reports whether a document has begun and not yet ended.
func (s *Scanner) InDocument() bool {
	return s.docDepth > 0
}

// Failed reports whether the scanner met a syntax error since the last Reset.
func (s *Scanner) Failed() bool {
	return s.st == stError
}

// Reset ends the current input: a document still open is reported as
// incomplete, and the scanner then expects a new sequence of values. The
// capture buffer is kept for reuse.
func (s *Scanner) Reset() {
	if s.docDepth > 0 {
		s.docDepth = 0
		s.h.EndDocument(false)
	}

	s.st = stValue
	s.depth = 0
	s.inKey = false
	s.capturing = false
}

// Write scans p, the next bytes of the input. It always returns len(p), nil:
// malformed input is reported through Handler.EndDocument and [Failed].
func (s *Scanner) Write(p []byte) (int, error) {
	s.capStart = 0
	quoteAt := -1

	i := 0
	for i < len(p) {
		switch s.st {
		case stError:
			i = len(p)

		case stValue, stArrayStart:
			c := p[i]
			if isSpace(c) {
				i++
				continue
			}
			if c == ']' && s.st == stArrayStart {
				s.closeContainer(p, i, true)
				i++
				continue
			}
			s.beginValue(p, i)
			i++

		case stObjectStart, stKey:
			c := p[i]
			if isSpace(c) {
				i++
				continue
			}
			switch {
			case c == '"':
				if next, ok := s.member(p, i); ok {
					i = next
					continue
				}
				s.beginKey()
			case c == '}' && s.st == stObjectStart:
				s.closeContainer(p, i, false)
			default:
				s.fail()
			}
			i++

		case stColon:
			c := p[i]
			if isSpace(c) {
				i++
				continue
			}
			if c != ':' {
				s.fail()
			}
			s.st = stValue
			i++

		case stString:
			// Keys and most values are short, and indexStringStop finds
			// their end sooner than two IndexByte calls do.
			short := min(len(p), i+maxShortString)
			j := indexStringStop(p, i, short)
			s.appendKey(p[i:j])
			if j < short {
				i = j + 1
				if p[j] == '\\' {
					s.st = stEscape
					continue
				}
				s.endString(p, i)
				continue
			}
			i = j
			if i == len(p) {
				continue
			}

			// quoteAt is the index of the next quote, or len(p) when p has
			// none left, so that neither case is searched again after
			// each escape sequence.
			if quoteAt < i {
				quoteAt = len(p)
				if q := bytes.IndexByte(p[i:], '"'); q >= 0 {
					quoteAt = i + q
				}
			}
			end := quoteAt
			if b := bytes.IndexByte(p[i:end], '\\'); b >= 0 {
				s.appendKey(p[i : i+b])
				s.st = stEscape
				i += b + 1
				continue
			}
			s.appendKey(p[i:end])
			if quoteAt == len(p) {
				i = len(p)
				continue
			}
			i = quoteAt + 1
			s.endString(p, i)

		case stEscape:
			s.st = stString
			if s.inKey {
				s.escapeKeyByte(p[i])
			}
			i++

		case stKeyUnicode:
			if !s.appendKeyHex(p[i]) {
				// Not a hex digit: the escape is invalid, and p[i] is
				// read again as a byte of the string.
				s.st = stString
				continue
			}
			i++

		case stSkip, stSkipString, stSkipEscape:
			i = s.skip(p, i)

		case stLiteral:
			j := s.skipLiterals(p, i)
			if j == len(p) {
				i = j
				continue
			}
			s.endValue(p, j)
			i = j

		case stAfterValue:
			c := p[i]
			if isSpace(c) {
				i++
				continue
			}
			switch c {
			case ',':
				if s.isArray(s.depth) {
					s.st = stValue
				} else {
					s.st = stKey
				}
			case ']':
				s.closeContainer(p, i, true)
			case '}':
				s.closeContainer(p, i, false)
			default:
				s.fail()
			}
			i++
		}
	}

	if s.capturing {
		s.appendCapture(p[s.capStart:])
	}
	return len(p), nil
}

// beginValue starts the value whose first byte is p[i].
func (s *Scanner) beginValue(p []byte, i int) {
	c := p[i]

	if !s.capturing && s.depth > 0 && s.docDepth > 0 && !s.isArray(s.depth) {
		if path, ok := s.memberPath(); ok {
			if limit := s.h.Member(path, c); limit > 0 {
				s.capturing = true
				s.capDepth = s.depth
				s.capStart = i
				s.capLimit = limit
				s.capTrunc = false
				s.capBuf = s.capBuf[:0]
			}
		}
	}

	switch {
	case c == '{':
		startsDocument := s.docDepth == 0 && (s.depth == 0 || (s.depth == 1 && s.isArray(1)))
		if !s.push(false) {
			return
		}
		if startsDocument {
			s.docDepth = s.depth
		}
		s.st = stObjectStart
	case c == '[':
		if !s.push(true) {
			return
		}
		s.st = stArrayStart
		if s.docDepth > 0 {
			s.skipBase = s.depth
			s.st = stSkip
		}
	case c == '"':
		s.inKey = false
		s.st = stString
	case isLiteralStart(c):
		s.st = stLiteral
	default:
		s.fail()
	}
}

// endString handles the closing quote of a string; end is the index after it.
func (s *Scanner) endString(p []byte, end int) {
	if s.inKey {
		s.inKey = false
		s.st = stColon
		return
	}
	s.endValue(p, end)
}

// endValue ends a scalar value whose last byte is p[end-1].
func (s *Scanner) endValue(p []byte, end int) {
	if s.capturing && s.capDepth == s.depth {
		s.finishCapture(p, end)
	}
	s.afterValue()
}

func (s *Scanner) afterValue() {
	if s.depth == 0 {
		s.st = stValue
	} else {
		s.st = stAfterValue
	}
}

// closeContainer handles the closing bracket at p[i].
func (s *Scanner) closeContainer(p []byte, i int, array bool) {
	if s.depth == 0 || s.isArray(s.depth) != array {
		s.fail()
		return
	}
	s.depth--

	if s.capturing && s.capDepth == s.depth {
		s.finishCapture(p, i+1)
	}
	if s.docDepth > 0 && s.depth < s.docDepth {
		s.docDepth = 0
		s.h.EndDocument(true)
	}
	s.afterValue()
}

func (s *Scanner) fail() {
	s.st = stError
	s.capturing = false
	if s.docDepth > 0 {
		s.docDepth = 0
		s.h.EndDocument(false)
	}
}
