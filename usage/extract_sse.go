package usage

import "bytes"

// sseState is the position of an sseFramer within the current line.
type sseState uint8

const (
	sseLineStart  sseState = iota // at the start of a line
	sseFieldName                  // reading a field name
	sseValueStart                 // after "name:", where one space is dropped
	sseValue                      // inside a field value
	sseSkipLine                   // inside a comment or an ignored field
)

// maxSSEFieldName is the longest field name kept; longer names are ignored
// fields anyway, since only "data" and "event" matter.
const maxSSEFieldName = 8

// sseFramer parses a text/event-stream body as the HTML Living Standard's
// "event stream interpretation" describes, without buffering lines. The
// value of each data line streams straight into the JSON scanner, and the
// data lines of one event are joined with "\n". Comment lines (":"),
// unknown fields and a leading byte order mark are skipped. Lines end with
// LF, CRLF or a lone CR. An event's JSON document is applied when its
// closing brace arrives. A blank line ends the event and drops a document
// left incomplete.
type sseFramer struct {
	x  *Extractor
	st sseState

	// afterCR is set after a CR, so that an LF right after it does not end
	// a second, empty line.
	afterCR bool

	name    [maxSSEFieldName]byte
	nameLen int // -1 when the name is too long to be a known field

	// field is the field whose value is being read: 'd' data, 'e' event,
	// 0 other. eventHasData is set once the current event had a data line.
	field        byte
	eventHasData bool

	// doneMatched counts the bytes of the current data line that match
	// "[DONE]", the final message of OpenAI-style streams, or is -1 once
	// the line differs.
	doneMatched int

	// bomSeen counts the bytes of a leading UTF-8 byte order mark matched
	// so far; it is len(utf8BOM) once the stream is past its start.
	bomSeen int

	// repeat skips events that repeat a quiet event, and replaying is set
	// while carried bytes that did not match are scanned. eventStart is the
	// index in the current write of the first line of the current event,
	// or -1 when the event began in an earlier write, and eventDocuments
	// and eventQuiet are the extractor's document counts at that line.
	repeat         sseRepeat
	replaying      bool
	eventStart     int
	eventDocuments int
	eventQuiet     int
}

// utf8BOM is the byte order mark that the standard drops from the start of
// a stream.
const utf8BOM = "\xEF\xBB\xBF"

func newSSEFramer(x *Extractor) *sseFramer {
	return &sseFramer{x: x}
}

func (f *sseFramer) write(p []byte) {
	if len(f.repeat.carry) > 0 {
		rest, replay := f.repeat.resume(f.x, p)
		if len(f.repeat.carry) == 0 && replay == nil {
			f.afterCR = f.repeat.endsWithCR()
		}
		if replay != nil {
			f.replaying = true
			f.scan(replay)
			f.replaying = false
		}
		p = rest
	}
	f.scan(p)
}

// scan parses p, skipping events that match the repeat template unless the
// framer is replaying carried bytes that failed to match it.
func (f *sseFramer) scan(p []byte) {
	// nextLF is the index of the next LF in p, len(p) when there is none,
	// or -1 before the first search.
	nextLF := -1
	f.eventStart = -1

	for i := 0; i < len(p); {
		c := p[i]

		if f.bomSeen < len(utf8BOM) {
			if c == utf8BOM[f.bomSeen] {
				f.bomSeen++
				i++
				continue
			}
			f.bomSeen = len(utf8BOM)
		}

		if f.afterCR {
			f.afterCR = false
			if c == '\n' {
				i++
				continue
			}
		}

		switch f.st {
		case sseLineStart:
			if !f.eventHasData && !f.x.sseEvent.set && !f.replaying {
				if n := f.repeat.skip(f.x, p[i:]); n > 0 {
					i += n
					f.afterCR = len(f.repeat.carry) == 0 && f.repeat.endsWithCR()
					continue
				}
				f.beginEvent(i)
			}

			switch c {
			case '\r', '\n':
				if f.eventHasData {
					f.repeat.missed()
				}
				f.learnEvent(p, i)
				f.endEvent()
				f.afterCR = c == '\r'
			case ':':
				f.st = sseSkipLine
			default:
				f.nameLen = 0
				f.appendName(c)
				f.st = sseFieldName
			}
			i++

		case sseFieldName:
			switch c {
			case '\r', '\n':
				f.beginValue()
				f.endLine(c)
			case ':':
				f.beginValue()
				f.st = sseValueStart
			default:
				f.appendName(c)
			}
			i++

		case sseValueStart:
			f.st = sseValue
			if c == ' ' {
				i++
			}

		case sseValue:
			end := indexLineEnd(p, i, &nextLF)
			if end < 0 {
				f.appendValue(p[i:])
				i = len(p)
				continue
			}
			f.appendValue(p[i:end])
			f.endLine(p[end])
			i = end + 1

		case sseSkipLine:
			end := indexLineEnd(p, i, &nextLF)
			if end < 0 {
				i = len(p)
				continue
			}
			f.endLine(p[end])
			i = end + 1
		}
	}
}

// finish applies nothing more: an event cut off at the end of the body
// still counts when its JSON document was complete, since documents are
// applied as they close. It reports whether the body ended with no JSON
// document left open; a last line such as "data: [DONE]" is not one.
func (f *sseFramer) finish(bool) bool {
	if replay := f.repeat.carry; len(replay) > 0 {
		f.repeat.carry = f.repeat.carry[:0]
		f.replaying = true
		f.scan(replay)
		f.replaying = false
	}

	complete := !f.x.scan.InDocument()
	f.x.scan.Reset()
	return complete
}

func (f *sseFramer) appendName(c byte) {
	if f.nameLen < 0 || f.nameLen >= maxSSEFieldName {
		f.nameLen = -1
		return
	}
	f.name[f.nameLen] = c
	f.nameLen++
}

// beginValue starts the value of the field just named.
func (f *sseFramer) beginValue() {
	f.field = 0
	if f.nameLen < 0 {
		return
	}

	switch string(f.name[:f.nameLen]) {
	case "data":
		f.field = 'd'
		f.doneMatched = 0
		if f.eventHasData {
			_, _ = f.x.scan.Write([]byte{'\n'})
		}
		f.eventHasData = true
	case "event":
		f.field = 'e'
		f.x.sseEvent.reset()
		f.x.sseEvent.set = true
		f.x.sseEvent.raw = append(f.x.sseEvent.raw, '"')
	}
}

func (f *sseFramer) appendValue(b []byte) {
	switch f.field {
	case 'd':
		f.matchDone(b)
		_, _ = f.x.scan.Write(b)
	case 'e':
		if len(f.x.sseEvent.raw)+len(b) > maxWordCapture {
			// No known event name is this long, so the name is dropped
			// with the rest of its line. Keeping the part that fit would let
			// a prefix cut at a read boundary, such as "error", match.
			f.x.sseEvent.reset()
			f.field = 0
			return
		}
		f.x.sseEvent.raw = append(f.x.sseEvent.raw, b...)
	}
}

// matchDone advances doneMatched over b, the next bytes of a data line.
func (f *sseFramer) matchDone(b []byte) {
	if f.doneMatched < 0 {
		return
	}
	rest := sseDone[f.doneMatched:]
	if len(b) > len(rest) || string(b) != rest[:len(b)] {
		f.doneMatched = -1
		return
	}
	f.doneMatched += len(b)
}

// sseDone is the data of the last event of OpenAI-style streams.
const sseDone = "[DONE]"

// endLine ends the current line at the line-ending byte c.
func (f *sseFramer) endLine(c byte) {
	if f.field == 'd' && f.doneMatched == len(sseDone) {
		f.x.terminated = true
	}
	if f.field == 'e' {
		f.x.sseEvent.raw = append(f.x.sseEvent.raw, '"')
	}
	f.field = 0
	f.st = sseLineStart
	f.afterCR = c == '\r'
}

// beginEvent notes that the line at p[i] may be the first of an event.
func (f *sseFramer) beginEvent(i int) {
	f.eventStart = i
	f.eventDocuments = f.x.documents
	f.eventQuiet = f.x.quietDocuments
}

// learnEvent offers the event that the blank line at p[i] ends to the
// repeat template, when the event lies wholly in p and applied exactly one
// document, which changed nothing.
func (f *sseFramer) learnEvent(p []byte, i int) {
	if f.eventStart < 0 || !f.eventHasData {
		return
	}
	if f.x.documents-f.eventDocuments != 1 || f.x.quietDocuments-f.eventQuiet != 1 {
		return
	}

	// A CR ends the event alone unless an LF follows, which must then be
	// part of the template, so an event whose next byte is unknown is not
	// offered.
	end := i + 1
	if p[i] == '\r' {
		if i+1 == len(p) {
			return
		}
		if p[i+1] == '\n' {
			end++
		}
	}
	f.repeat.learn(f.x, p[f.eventStart:end])
}

// endEvent handles a blank line: the event ends, and its document with it.
func (f *sseFramer) endEvent() {
	if f.eventHasData {
		f.x.scan.Reset()
	}
	f.eventHasData = false
	f.x.sseEvent.reset()
}

// indexLineEnd returns the index in p of the first CR or LF at or after i,
// or -1. It looks for a CR only before the next LF, whose index it keeps in
// *nextLF between calls for the same p, so that p is scanned once whether
// its lines end in LF, CRLF or CR alone.
func indexLineEnd(p []byte, i int, nextLF *int) int {
	if *nextLF < i {
		*nextLF = len(p)
		if lf := bytes.IndexByte(p[i:], '\n'); lf >= 0 {
			*nextLF = i + lf
		}
	}

	if cr := bytes.IndexByte(p[i:*nextLF], '\r'); cr >= 0 {
		return i + cr
	}
	if *nextLF == len(p) {
		return -1
	}
	return *nextLF
}
