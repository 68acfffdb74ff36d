package usage

import (
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/httpmeter/httpmeter/internal/eventstream"
	"github.com/httpmeter/httpmeter/internal/jsonscan"
)

// maxChunkCapture bounds the base64 "bytes" member of one InvokeModel
// stream chunk. A larger chunk is skipped; chunks carry a few tokens of text
// each, and the usage arrives in small ones.
const maxChunkCapture = 64 << 10

// eventStreamFramer decodes an AWS event-stream body (Bedrock ConverseStream
// and InvokeModelWithResponseStream) and feeds each event's JSON payload to
// the scanner. A payload's document is applied only when the message CRC
// has matched. InvokeModel "chunk" events wrap the model's own JSON event in
// base64, which is decoded and scanned as a document of its own.
type eventStreamFramer struct {
	x   *Extractor
	dec *eventstream.Decoder

	// isChunk is set while the current message is an InvokeModel chunk,
	// whose payload goes to chunkScan instead of the main scanner.
	isChunk   bool
	chunkScan *jsonscan.Scanner
	chunk     chunkBytes
	decoded   []byte

	// exception names the current message's modeled or unmodeled error.
	exception string
	broken    bool
}

func newEventStreamFramer(x *Extractor) *eventStreamFramer {
	f := &eventStreamFramer{x: x}
	f.dec = eventstream.NewDecoder(f)
	f.chunkScan = jsonscan.New(&f.chunk)
	return f
}

func (f *eventStreamFramer) write(p []byte) {
	_, _ = f.dec.Write(p)
}

// finish reports whether every message was whole and its CRCs matched.
func (f *eventStreamFramer) finish(bool) bool {
	if err := f.dec.Close(); err != nil {
		f.broken = true
	}
	f.x.scan.Reset()
	return !f.broken
}

// MessageStart implements eventstream.Handler.
func (f *eventStreamFramer) MessageStart(h eventstream.Headers) {
	f.exception = ""
	f.isChunk = false
	f.x.deferDocuments = true

	switch string(h.MessageType) {
	case "exception":
		f.exception = sanitizeName(h.ExceptionType)
	case "error":
		f.exception = sanitizeName(h.ErrorCode)
	}
	if f.exception == "" && string(h.MessageType) != "event" && len(h.MessageType) > 0 {
		f.exception = "unknown"
	}

	if string(h.EventType) == "chunk" {
		f.isChunk = true
		f.chunk.reset()
		f.chunkScan.Reset()
	}
}

// Payload implements eventstream.Handler.
func (f *eventStreamFramer) Payload(p []byte) {
	if f.exception != "" {
		return
	}
	if f.isChunk {
		_, _ = f.chunkScan.Write(p)
		return
	}
	_, _ = f.x.scan.Write(p)
}

// MessageEnd implements eventstream.Handler.
func (f *eventStreamFramer) MessageEnd(err error) {
	if err != nil {
		f.broken = true
		f.x.discardDeferred()
		f.x.scan.Reset()
		if errors.Is(err, eventstream.ErrTruncated) {
			f.x.warnings.add("usage: the AWS event stream ended inside a message")
		} else {
			f.x.warnings.add("usage: the AWS event stream is corrupt; later events were not read")
		}
		return
	}

	if f.exception != "" {
		f.x.errored = true
		f.x.warnings.add(fmt.Sprintf("usage: the response reported an error of type %q", f.exception))
	}

	f.x.scan.Reset()
	f.x.applyDeferred()

	if f.isChunk && f.chunk.tooLarge {
		f.x.warnings.add(fmt.Sprintf("usage: an InvokeModel stream chunk larger than %d bytes was skipped", maxChunkCapture))
	}
	if f.isChunk && f.chunk.field.set {
		f.scanChunk()
	}
}

// scanChunk decodes the base64 payload of an InvokeModel chunk and scans
// it as one document.
func (f *eventStreamFramer) scanChunk() {
	raw := f.chunk.field.raw
	if len(raw) < 2 || raw[0] != '"' {
		return
	}
	encoded := raw[1 : len(raw)-1]

	size := base64.StdEncoding.DecodedLen(len(encoded))
	if cap(f.decoded) < size {
		f.decoded = make([]byte, size)
	}
	n, err := base64.StdEncoding.Decode(f.decoded[:size], encoded)
	if err != nil {
		f.x.warnings.add("usage: an InvokeModel stream chunk is not valid base64; skipped")
		return
	}

	f.x.deferDocuments = false
	_, _ = f.x.scan.Write(f.decoded[:n])
	f.x.scan.Reset()
}

// chunkBytes captures the top-level "bytes" member of an InvokeModel chunk.
type chunkBytes struct {
	field    field
	tooLarge bool
}

func (c *chunkBytes) reset() {
	c.field.reset()
	c.tooLarge = false
}

func (c *chunkBytes) Member(p jsonscan.Path, _ byte) int {
	if p.Is("bytes") {
		return maxChunkCapture
	}
	return 0
}

func (c *chunkBytes) Value(_ jsonscan.Path, raw []byte, truncated bool) {
	c.tooLarge = truncated
	c.field.store(raw, truncated)
}

func (c *chunkBytes) EndDocument(bool) {}

// sanitizeName returns b with every byte outside [A-Za-z0-9_.:-] dropped,
// cut to 64 bytes.
func sanitizeName(b []byte) string {
	f := field{raw: b, set: true}
	name := errorName(&f)
	if len(name) > maxWordCapture {
		name = name[:maxWordCapture]
	}
	return name
}
