package usage

// maxWarnings bounds the warnings one extractor keeps, so a stream that
// repeats a bad count in every chunk cannot grow memory.
const maxWarnings = 16

// warnings is a bounded list of distinct warning messages.
type warnings struct {
	list    []string
	dropped int
}

// add appends msg unless it is already listed or the list is full.
func (w *warnings) add(msg string) {
	for _, m := range w.list {
		if m == msg {
			return
		}
	}
	if len(w.list) >= maxWarnings {
		w.dropped++
		return
	}
	w.list = append(w.list, msg)
}

// result returns the messages, with a last one counting any dropped.
func (w *warnings) result() []string {
	if w.dropped == 0 {
		return w.list
	}
	return append(w.list, "usage: more warnings were dropped")
}
