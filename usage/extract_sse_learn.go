package usage

import (
	"bytes"
	"math"

	"github.com/httpmeter/httpmeter/internal/jsonscan"
)

// holeSentinel replaces the varying text while a candidate template is
// checked. It contains no byte that ends a JSON string or an SSE line.
const holeSentinel = "\x00httpmeter-hole\x00"

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

// allocate gives the template, its joint, the earlier event, the carry
// and the probe their buffers, all at their final size in one allocation,
// so a response allocates the same whatever its length.
func (r *sseRepeat) allocate() {
	const n = maxRepeatEvent
	buf := make([]byte, 4*n+maxRepeatCarry+len(holeSentinel))
	r.event = buf[0:0:n]
	r.joint = buf[n : n : 2*n]
	r.prev = buf[2*n : 2*n : 3*n]
	r.carry = buf[3*n : 3*n : 3*n+maxRepeatCarry]
	r.probe.buf = buf[3*n+maxRepeatCarry : 3*n+maxRepeatCarry]
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
