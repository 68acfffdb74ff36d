package usage

import (
	"bytes"

	"github.com/httpmeter/httpmeter/internal/jsonscan"
)

// jsonFramer feeds a plain JSON body to the scanner: one object, a sequence
// of objects, or an array of objects delivered incrementally (Gemini's
// streamGenerateContent without alt=sse), whose elements are documents.
type jsonFramer struct {
	scan *jsonscan.Scanner
}

func (f *jsonFramer) write(p []byte) {
	_, _ = f.scan.Write(p)
}

// finish reports whether the body held only complete JSON values.
func (f *jsonFramer) finish(bool) bool {
	complete := f.scan.Idle()
	f.scan.Reset()
	return complete
}

// ndjsonFramer feeds a newline-delimited JSON body (Ollama's native
// streams) to the scanner. Each line is one value. A line that is not a
// complete value is dropped at its newline, so one bad line does not hide
// the lines after it.
type ndjsonFramer struct {
	scan *jsonscan.Scanner
}

func (f *ndjsonFramer) write(p []byte) {
	for len(p) > 0 {
		nl := bytes.IndexByte(p, '\n')
		if nl < 0 {
			_, _ = f.scan.Write(p)
			return
		}

		_, _ = f.scan.Write(p[:nl])
		if !f.scan.Idle() {
			f.scan.Reset()
		}
		p = p[nl+1:]
	}
}

// finish reports whether the last line, if unterminated, was complete.
func (f *ndjsonFramer) finish(bool) bool {
	complete := f.scan.Idle()
	f.scan.Reset()
	return complete
}
