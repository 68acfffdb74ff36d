package usage

// Limits of the repeat template.
const (
	// maxRepeatEvent is the longest SSE event kept as a template.
	maxRepeatEvent = 1024

	// maxRepeatMisses is how many events with data in a row may fail to
	// match the template before it is dropped and a new one is learned.
	maxRepeatMisses = 16

	// maxHoleText is the longest text of a hole that is matched. An event
	// whose string is longer is parsed instead, which finds the end of a
	// long string faster than the 8-byte steps of indexHoleStop.
	maxHoleText = 256

	// maxRepeatCarry bounds the bytes of a partly matched event kept from
	// one write to the next.
	maxRepeatCarry = maxRepeatEvent

	// maxLearnBackoff bounds how many quiet events pass between two
	// attempts to learn a template, once attempts keep failing.
	maxLearnBackoff = 64
)

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
// events with data in a row that do not match it.
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
		r.drop()
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
				start := skipped + r.holeStart
				end := indexHoleStop(p, start, start+maxHoleText+1)
				if end > start+maxHoleText || end+len(r.joint) > len(p) || string(p[end:end+len(r.joint)]) != string(r.joint) {
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
	return p, replay
}

// missed records an event with data that the framer parsed while a
// template was ready, and drops the template after maxRepeatMisses of
// them in a row.
func (r *sseRepeat) missed() {
	if !r.ready {
		return
	}
	r.misses++
	if r.misses > maxRepeatMisses {
		r.drop()
	}
}

// endsWithCR reports whether the template ends with a CR that ends its
// blank line alone, after which the framer treats an LF as part of that
// line ending, as after any CR.
func (r *sseRepeat) endsWithCR() bool {
	return r.event[len(r.event)-1] == '\r'
}

// count records events skipped in a row as applied quiet documents of x.
func (r *sseRepeat) count(x *Extractor, events int) {
	if events == 0 {
		return
	}
	r.misses = 0
	r.skipped += events
	x.documents += events
	x.quietDocuments += events
}

// drop discards the template. When the template skipped fewer than
// maxRepeatMisses events, learning waits as after a failed attempt. A
// stream whose events keep changing shape, or that changes the result
// every few events, then does not pay for a new template each time.
func (r *sseRepeat) drop() {
	r.ready = false
	r.carry = r.carry[:0]
	r.misses = 0
	r.prev = r.prev[:0]

	if r.skipped-r.skippedAtLearn < maxRepeatMisses {
		r.backOff()
		return
	}
	r.backoff, r.countdown = 0, 0
}

// backOff doubles the number of quiet events to let pass before the next
// attempt to learn, up to maxLearnBackoff.
func (r *sseRepeat) backOff() {
	r.backoff = min(max(2*r.backoff, 1), maxLearnBackoff)
	r.countdown = r.backoff
}
