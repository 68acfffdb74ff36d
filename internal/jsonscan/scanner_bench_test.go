package jsonscan

import (
	"strings"
	"testing"
)

// benchChunk is one OpenAI chat stream chunk, the document that SSE bodies
// repeat thousands of times.
const benchChunk = `{"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1733300000,` +
	`"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_bench","choices":[{"index":0,` +
	`"delta":{"content":" growth"},"logprobs":null,"finish_reason":null}],"usage":null}`

// captureHandler captures the members a usage reader asks for and counts
// documents, without the allocations of the test recorder.
type captureHandler struct {
	documents int
	captured  int
}

func (h *captureHandler) Member(p Path, first byte) int {
	if p.Len() != 1 {
		return 0
	}
	switch string(p.Key(0)) {
	case "object", "model", "system_fingerprint":
		return 256
	case "usage":
		return 16 << 10
	}
	return 0
}

func (h *captureHandler) Value(p Path, raw []byte, truncated bool) { h.captured += len(raw) }

func (h *captureHandler) EndDocument(complete bool) { h.documents++ }

// BenchmarkScannerChunks scans 4,096 stream chunks, each as its own input
// as an SSE framer feeds them, with the captures a usage reader asks for.
func BenchmarkScannerChunks(b *testing.B) {
	chunk := []byte(benchChunk)
	h := &captureHandler{}
	s := New(h)

	b.SetBytes(int64(len(chunk)) * 4096)
	for b.Loop() {
		for range 4096 {
			_, _ = s.Write(chunk)
			s.Reset()
		}
	}
	if h.documents == 0 {
		b.Fatal("no document ended")
	}
}

// BenchmarkScannerLongString scans a document whose one member is a 64 KiB
// string with escapes, as chat completions carry their content.
func BenchmarkScannerLongString(b *testing.B) {
	prose := strings.Repeat(`The report shows \"steady growth\" in Zürich.\n`, 64<<10/48)
	doc := []byte(`{"content":"` + prose + `","usage":{"total_tokens":1}}`)
	h := &captureHandler{}
	s := New(h)

	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		_, _ = s.Write(doc)
		s.Reset()
	}
	if h.captured == 0 {
		b.Fatal("usage not captured")
	}
}
