package usage

import (
	"encoding/binary"
	"math/bits"

	"github.com/httpmeter/httpmeter/internal/swar"
)

// matchWhole returns the length of the event at the start of p when it
// matches the template, 0 when it does not, and -1 when p ends before the
// event does. It is advance for an event that starts in p, with no state.
// prefixMatched reports that the caller already compared the part before
// the hole. When the part after the hole and the next event's part before
// its hole are in p, matchWhole compares them in one step, as r.joint, and
// reports a match of the latter as nextPrefixMatched.
func (r *sseRepeat) matchWhole(p []byte, prefixMatched bool) (n int, nextPrefixMatched bool) {
	if r.holeStart < 0 {
		if len(p) < len(r.event) {
			return -1, false
		}
		if string(p[:len(r.event)]) != string(r.event) {
			return 0, false
		}
		return len(r.event), false
	}

	prefix, suffix := r.event[:r.holeStart], r.event[r.holeEnd:]
	if len(p) < len(prefix)+len(suffix) {
		return -1, false
	}
	if !prefixMatched && string(p[:len(prefix)]) != string(prefix) {
		return 0, false
	}

	holeLimit := len(prefix) + maxHoleText
	end := indexHoleStop(p, len(prefix), holeLimit+1)
	switch {
	case end > holeLimit:
		return 0, false
	case end == len(p):
		return -1, false
	case p[end] != '"':
		return 0, false
	}

	if end+len(r.joint) <= len(p) && string(p[end:end+len(r.joint)]) == string(r.joint) {
		return end + len(suffix), true
	}
	if end+len(suffix) > len(p) {
		return -1, false
	}
	if string(p[end:end+len(suffix)]) != string(suffix) {
		return 0, false
	}
	return end + len(suffix), false
}

// indexHoleStop returns the index of the first byte in p[i:limit] that
// isHoleStop reports, or min(limit, len(p)) when there is none. It tests 8
// bytes per step, because the byte loop was a third of the time of a
// matching event.
func indexHoleStop(p []byte, i, limit int) int {
	end := min(limit, len(p))
	for ; i+8 <= end; i += 8 {
		word := binary.LittleEndian.Uint64(p[i:])
		if found := swar.MatchByte(word, '"') | swar.MatchByte(word, '\\') | swar.MatchControl(word); found != 0 {
			return i + bits.TrailingZeros64(found)/8
		}
	}
	for ; i < end; i++ {
		if isHoleStop(p[i]) {
			return i
		}
	}
	return end
}

// matchStatus is the outcome of sseRepeat.advance.
type matchStatus uint8

const (
	matchDone    matchStatus = iota // the event matched the template
	matchPartial                    // the input ended while the event still matched
	matchFailed                     // the event differs from the template
)

// repeatMatch is how far an event has matched the template. The match goes
// through the part before the hole, the text in the hole, and the part from
// the hole's closing quote to the end of the event. pos counts the bytes
// matched in the current part.
type repeatMatch struct {
	inHole, pastHole bool
	pos              int
}

// advance continues r.match with the next bytes of an event and returns
// how many of them it consumed.
func (r *sseRepeat) advance(p []byte) (int, matchStatus) {
	m := &r.match
	i := 0

	if !m.inHole && !m.pastHole {
		prefix := r.event[m.pos:]
		if r.holeStart >= 0 {
			prefix = r.event[m.pos:r.holeStart]
		}
		n := min(len(prefix), len(p))
		if string(p[:n]) != string(prefix[:n]) {
			return 0, matchFailed
		}
		m.pos += n
		i = n
		if n < len(prefix) {
			return i, matchPartial
		}
		if r.holeStart < 0 {
			return i, matchDone
		}
		m.inHole, m.pos = true, 0
	}

	if m.inHole {
		end := indexHoleStop(p, i, i+maxHoleText+1-m.pos)
		m.pos += end - i
		i = end
		switch {
		case m.pos > maxHoleText:
			return i, matchFailed
		case i == len(p):
			return i, matchPartial
		case p[i] != '"':
			return i, matchFailed
		}
		m.inHole, m.pastHole, m.pos = false, true, 0
	}

	suffix := r.event[r.holeEnd+m.pos:]
	n := min(len(suffix), len(p)-i)
	if string(p[i:i+n]) != string(suffix[:n]) {
		return i, matchFailed
	}
	m.pos += n
	i += n
	if n < len(suffix) {
		return i, matchPartial
	}
	return i, matchDone
}

// isHoleStop reports whether c may not appear in the text of a hole. A
// quote or backslash would end the JSON string or start an escape sequence.
// CR and LF would end the SSE line, and every control character is invalid
// in a JSON string.
func isHoleStop(c byte) bool {
	return c == '"' || c == '\\' || c < 0x20
}
