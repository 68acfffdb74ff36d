package usage

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/bits"

	"github.com/httpmeter/httpmeter/internal/jsonscan"
)

// Limits of the repeat template.
const (
	// maxRepeatEvent is the longest SSE event kept as a template.
	maxRepeatEvent = 1024

	// maxRepeatMisses is how many event starts in a row may fail to match
	// the template before it is dropped and a new one is learned.
	maxRepeatMisses = 16

	// maxRepeatCarry bounds the bytes of a partly matched event kept from
	// one write to the next.
	maxRepeatCarry = maxRepeatEvent

	// maxLearnBackoff bounds how many quiet events pass between two
	// attempts to learn a template, once attempts keep failing.
	maxLearnBackoff = 64
)

// holeSentinel replaces the varying text while a candidate template is
// checked. It contains no byte that ends a JSON string or an SSE line.
const holeSentinel = "\x00httpmeter-hole\x00"

// sseRepeat skips SSE events that provably change nothing in the result.
// Most of a streamed completion is events that differ from each other only
// in the text of one string, such as a token delta in
// choices[0].delta.content, while the extractor reads none of that text.
//
// The template is the raw bytes of one quiet event, one whose document
// changed nothing, with a hole: the content of the one string that varied
// between two quiet events. An event matches when its bytes equal the
// template outside the hole and the text in the hole has no quote,
// backslash or control character such as CR or LF. Such an event has the
// same SSE lines and the same JSON structure as the template, with
// different text in one string. The extractor captures neither that
// string nor any member value around it, so applying the event would
// change nothing either. The skip counts it as an applied quiet document
// without scanning it.
//
// The template stays valid while no document changes the result: it is
// dropped when documents-quietDocuments moves, and after maxRepeatMisses
// event starts in a row that do not match it.
type sseRepeat struct {
	// event is the template; event[holeStart:holeEnd] is the hole, and
	// holeStart is -1 in a template without one. joint is the part after
	// the hole followed by the part before it, as two matching events in a
	// row contain it.
	event              []byte
	holeStart, holeEnd int
	joint              []byte
	ready              bool

	// changes is documents-quietDocuments when the template was learned.
	changes int
	misses  int

	// match is the progress of the event being matched, and carry its bytes
	// so far when it began in an earlier write.
	match repeatMatch
	carry []byte

	// prev is an earlier quiet event, compared with the next one to find the
	// string that varies. countdown is the number of quiet events to let pass
	// before the next attempt, and backoff the countdown after a failure.
	prev      []byte
	countdown int
	backoff   int

	// probe checks where the extractor would read the hole.
	probe holeProbe

	// skipped counts the events skipped, and skippedAtLearn is its value
	// when the template was learned. off, which only tests set, keeps the
	// template from ever being learned.
	skipped        int
	skippedAtLearn int
	off            bool
}

// skip consumes the events at the start of p that match the template and
// returns the number of bytes they take. It counts each as an applied
// quiet document of x. When p ends inside an event that matches so far, it
// keeps the rest of p in r.carry, consumes it, and the next write resumes
// the match.
func (r *sseRepeat) skip(x *Extractor, p []byte) int {
	if !r.ready {
		return 0
	}
	if x.documents-x.quietDocuments != r.changes {
		r.drop(false)
		return 0
	}

	skipped, events := 0, 0
	prefixMatched := false
	for skipped < len(p) {
		if prefixMatched {
			// In a run of matching events, each joint match proves the
			// next event's part before its hole, so this loop only finds
			// the end of each hole and compares the next joint.
			for {
				end := indexHoleStop(p, skipped+r.holeStart)
				if end+len(r.joint) > len(p) || string(p[end:end+len(r.joint)]) != string(r.joint) {
					break
				}
				skipped = end + len(r.event) - r.holeEnd
				events++
			}
		}

		n, nextPrefixMatched := r.matchWhole(p[skipped:], prefixMatched)
		if n > 0 {
			skipped += n
			events++
			prefixMatched = nextPrefixMatched
			continue
		}
		if n == 0 {
			break
		}

		// p ends inside the event, so advance checks what there is and
		// keeps the match state for the next write.
		r.match = repeatMatch{}
		if _, status := r.advance(p[skipped:]); status == matchPartial && len(p)-skipped <= maxRepeatCarry {
			r.carry = append(r.carry[:0], p[skipped:]...)
			skipped = len(p)
		}
		break
	}
	r.count(x, events)

	if skipped == 0 {
		r.misses++
		if r.misses > maxRepeatMisses {
			r.drop(true)
		}
	}
	return skipped
}

// resume continues the match of the event kept in r.carry with p, the next
// write. It returns the bytes of p still to be scanned, and the carried
// bytes that the framer must scan first because the event did not match.
func (r *sseRepeat) resume(x *Extractor, p []byte) (rest, replay []byte) {
	n, status := r.advance(p)
	switch {
	case status == matchDone:
		r.carry = r.carry[:0]
		r.count(x, 1)
		return p[n:], nil
	case status == matchPartial && len(r.carry)+len(p) <= maxRepeatCarry:
		r.carry = append(r.carry, p...)
		return nil, nil
	}

	// Nothing appends to r.carry while the framer replays it.
	replay = r.carry
	r.carry = r.carry[:0]
	r.misses++
	return p, replay
}

// endsWithCR reports whether the template ends with a CR that ends its
// blank line alone, after which the framer treats an LF as part of that
// line ending, as after any CR.
func (r *sseRepeat) endsWithCR() bool {
	return r.event[len(r.event)-1] == '\r'
}

func (r *sseRepeat) count(x *Extractor, events int) {
	if events == 0 {
		return
	}
	r.misses = 0
	r.skipped += events
	x.documents += events
	x.quietDocuments += events
}

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

	end := indexHoleStop(p, len(prefix))
	if end+len(r.joint) <= len(p) && string(p[end:end+len(r.joint)]) == string(r.joint) {
		return end + len(suffix), true
	}
	if end+len(suffix) > len(p) {
		return -1, false
	}
	if p[end] != '"' || string(p[end:end+len(suffix)]) != string(suffix) {
		return 0, false
	}
	return end + len(suffix), false
}

// indexHoleStop returns the index of the first byte at or after p[i] that
// isHoleStop reports, or len(p). It tests 8 bytes per step, because the
// byte loop was a third of the time of a matching event.
func indexHoleStop(p []byte, i int) int {
	for ; i+8 <= len(p); i += 8 {
		word := binary.LittleEndian.Uint64(p[i:])
		if found := hasByte(word, '"') | hasByte(word, '\\') | hasControl(word); found != 0 {
			return i + bits.TrailingZeros64(found)/8
		}
	}
	for ; i < len(p); i++ {
		if isHoleStop(p[i]) {
			return i
		}
	}
	return len(p)
}

// Word masks for testing 8 bytes at once: every byte 0x01, 0x20 and 0x80.
const (
	lowBits   = 0x0101010101010101
	spaceBits = 0x2020202020202020
	highBits  = 0x8080808080808080
)

// hasByte returns a word whose lowest set bit is the high bit of the first
// byte of word equal to c, or 0 when no byte is. Bits above the lowest one
// can be false matches, because the subtraction borrows only above a match.
func hasByte(word uint64, c byte) uint64 {
	x := word ^ (lowBits * uint64(c))
	return (x - lowBits) &^ x & highBits
}

// hasControl is hasByte for the first byte below 0x20.
func hasControl(word uint64) uint64 {
	return (word - spaceBits) &^ word & highBits
}

// matchStatus is the outcome of sseRepeat.advance.
type matchStatus uint8

const (
	matchDone    matchStatus = iota // the event matched the template
	matchPartial                    // the input ended while the event still matched
	matchFailed                     // the event differs from the template
)

// repeatMatch is how far an event has matched the template: pos bytes of
// the part before the hole, then the hole, then pos bytes of the part from
// the hole's closing quote to the end of the event.
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
		i = indexHoleStop(p, i)
		if i == len(p) {
			return i, matchPartial
		}
		if p[i] != '"' {
			return i, matchFailed
		}
		m.inHole, m.pastHole = false, true
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

// isHoleStop reports whether c may not appear in the text of a hole: a
// quote or backslash would end the JSON string or start an escape
// sequence, and CR and LF, like every control character, would end the
// SSE line or be invalid in a JSON string.
func isHoleStop(c byte) bool {
	return c == '"' || c == '\\' || c < 0x20
}

// drop discards the template. After a document changed the result, a new
// template is learned from the next quiet events. After events stopped
// matching a template that skipped few events, learning waits as after a
// failed attempt, so a stream whose events keep changing shape does not
// pay for a new template every few events.
func (r *sseRepeat) drop(stoppedMatching bool) {
	r.ready = false
	r.carry = r.carry[:0]
	r.misses = 0
	r.prev = r.prev[:0]
	r.countdown = 0

	switch {
	case !stoppedMatching:
	case r.skipped-r.skippedAtLearn < maxRepeatMisses:
		r.backOff()
	default:
		r.backoff = 0
	}
}

// backOff doubles the number of quiet events to let pass before the next
// attempt to learn, up to maxLearnBackoff.
func (r *sseRepeat) backOff() {
	r.backoff = min(max(2*r.backoff, 1), maxLearnBackoff)
	r.countdown = r.backoff
}

// learn offers ev, the raw bytes of a whole event whose one document was
// quiet, as material for a template. It compares ev with an earlier quiet
// event to find the string that varies, and adopts ev as the template when
// that string is a hole the extractor never reads. Attempts that fail back
// off, so a stream whose events vary in more than one place pays for few
// of them.
func (r *sseRepeat) learn(x *Extractor, ev []byte) {
	if r.ready || r.off || len(ev) > maxRepeatEvent {
		return
	}
	if r.countdown > 0 {
		r.countdown--
		return
	}
	if r.event == nil {
		r.allocate()
	}
	if len(r.prev) == 0 {
		r.prev = append(r.prev, ev...)
		return
	}

	if start, end, ok := r.findHole(x, ev); ok {
		r.event = append(r.event[:0], ev...)
		r.holeStart, r.holeEnd = start, end
		r.joint = r.joint[:0]
		if start >= 0 {
			r.joint = append(append(r.joint, r.event[end:]...), r.event[:start]...)
		}
		r.ready = true
		r.changes = x.documents - x.quietDocuments
		r.prev = r.prev[:0]
		r.skippedAtLearn = r.skipped
		return
	}

	r.prev = append(r.prev[:0], ev...)
	r.backOff()
}

// findHole returns the content span in ev of the one JSON string in which
// ev differs from r.prev, and false when there is no such string or the
// extractor might read its text. When ev equals r.prev, the span is
// (-1, -1) and the template matches only exact repeats.
func (r *sseRepeat) findHole(x *Extractor, ev []byte) (int, int, bool) {
	lcp := commonPrefixLen(r.prev, ev)
	if lcp == len(ev) && lcp == len(r.prev) {
		return -1, -1, true
	}
	diffEnd := len(ev) - commonSuffixLen(r.prev[lcp:], ev[lcp:])

	dataStart, dataEnd, ok := sseDataValue(ev)
	if !ok || lcp < dataStart || diffEnd > dataEnd {
		return 0, 0, false
	}
	data := ev[dataStart:dataEnd]
	start, end, ok := enclosingString(data, lcp-dataStart, diffEnd-dataStart)
	if !ok {
		return 0, 0, false
	}

	if !r.probe.unread(x, data, start, end) {
		return 0, 0, false
	}
	return dataStart + start, dataStart + end, true
}

// allocate gives the template, its joint, the earlier event, the carry and the probe
// their buffers, all at their final size in one allocation, so a response
// allocates the same whatever its length.
func (r *sseRepeat) allocate() {
	buf := make([]byte, 3*maxRepeatEvent+maxRepeatCarry+len(holeSentinel))
	r.event = buf[0:0:maxRepeatEvent]
	r.prev = buf[maxRepeatEvent : maxRepeatEvent : 2*maxRepeatEvent]
	r.carry = buf[2*maxRepeatEvent : 2*maxRepeatEvent : 2*maxRepeatEvent+maxRepeatCarry]
	r.probe.buf = buf[2*maxRepeatEvent+maxRepeatCarry : 2*maxRepeatEvent+maxRepeatCarry]
	r.probe.scan = jsonscan.New(&r.probe)
}

func commonPrefixLen(a, b []byte) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

func commonSuffixLen(a, b []byte) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[len(a)-1-i] != b[len(b)-1-i] {
			return i
		}
	}
	return n
}

// sseDataValue returns the span of the value of the one data line of ev, a
// whole event, and false when ev has no data line or more than one.
func sseDataValue(ev []byte) (int, int, bool) {
	start, end, found := 0, 0, false
	for i := 0; i < len(ev); {
		lineEnd := i
		for lineEnd < len(ev) && ev[lineEnd] != '\n' && ev[lineEnd] != '\r' {
			lineEnd++
		}
		line := ev[i:lineEnd]
		if len(line) == 0 {
			break
		}

		name, value := line, len(line)
		if colon := bytes.IndexByte(line, ':'); colon >= 0 {
			name, value = line[:colon], colon+1
			if value < len(line) && line[value] == ' ' {
				value++
			}
		}
		if string(name) == "data" {
			if found {
				return 0, 0, false
			}
			start, end, found = i+value, lineEnd, true
		}

		i = lineEnd + 1
		if lineEnd+1 < len(ev) && ev[lineEnd] == '\r' && ev[lineEnd+1] == '\n' {
			i++
		}
	}
	return start, end, found
}

// enclosingString returns the content span [start, end) of the JSON string
// value in data that contains the span [from, to), and false when no string
// does, when the string has an escape sequence, or when it is an object
// key.
func enclosingString(data []byte, from, to int) (int, int, bool) {
	for i := 0; i < len(data); i++ {
		if data[i] != '"' {
			continue
		}

		open, escaped := i, false
		for i++; i < len(data) && data[i] != '"'; i++ {
			if data[i] == '\\' {
				escaped = true
				i++
			}
		}
		if i >= len(data) {
			return 0, 0, false
		}

		if from > i {
			continue
		}
		if from <= open || to > i || escaped || followedByColon(data, i+1) {
			return 0, 0, false
		}
		return open + 1, i, true
	}
	return 0, 0, false
}

func followedByColon(data []byte, i int) bool {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t') {
		i++
	}
	return i < len(data) && data[i] == ':'
}

// holeProbe scans a candidate template's data with the hole replaced by
// holeSentinel, capturing every member the extractor would capture, and
// reports whether any of those values contains the hole. Members inside a
// captured value are not reported, exactly as in the extractor's own scan.
// Its scratch document is never filled, so it captures at least what the
// extractor would.
type holeProbe struct {
	x    *Extractor
	doc  document
	scan *jsonscan.Scanner
	buf  []byte

	read      bool
	documents int
	complete  int
}

// unread reports whether data, the JSON text of a quiet event, is one
// complete document in which x reads no value that contains the text
// data[start:end].
func (h *holeProbe) unread(x *Extractor, data []byte, start, end int) bool {
	h.buf = append(h.buf[:0], data[:start]...)
	h.buf = append(h.buf, holeSentinel...)
	h.buf = append(h.buf, data[end:]...)

	h.x = x
	h.doc.reset()
	h.read, h.documents, h.complete = false, 0, 0
	_, _ = h.scan.Write(h.buf)
	idle := h.scan.Idle()
	h.scan.Reset()
	h.x = nil

	return idle && !h.read && h.documents == 1 && h.complete == 1
}

// Member implements jsonscan.Handler. It captures, in full, what the
// extractor's Member would capture.
func (h *holeProbe) Member(p jsonscan.Path, first byte) int {
	f, limit, _ := h.doc.target(p, first)
	if f == nil || limit == 0 {
		return 0
	}
	if h.x.providerDecided() && h.doc.namesProviderOnly(f) {
		return 0
	}
	return math.MaxInt
}

// Value implements jsonscan.Handler.
func (h *holeProbe) Value(_ jsonscan.Path, raw []byte, _ bool) {
	if bytes.Contains(raw, []byte(holeSentinel)) {
		h.read = true
	}
}

// EndDocument implements jsonscan.Handler.
func (h *holeProbe) EndDocument(complete bool) {
	h.documents++
	if complete {
		h.complete++
	}
}
