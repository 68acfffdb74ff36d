package usage

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// reviewUsageChunk is an OpenAI chunk with a usage object, which always
// changes the result and so drops the repeat template.
const reviewUsageChunk = `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o",` +
	`"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":40,"total_tokens":47}}` + "\n\n"

// reviewRepeatBodies returns the streams the review benchmarks the skip on.
func reviewRepeatBodies() map[string]string {
	bodies := map[string]string{}

	// Two quiet deltas, then a chunk with usage, repeated. Every pair
	// learns a template, and the usage chunk drops it before it skips.
	var b strings.Builder
	for i := range 300 {
		b.WriteString(strings.ReplaceAll(openAIChunkEvent, "$", fmt.Sprintf(" a%d", i)))
		b.WriteString(strings.ReplaceAll(openAIChunkEvent, "$", fmt.Sprintf(" b%d", i)))
		b.WriteString(reviewUsageChunk)
	}
	bodies["usage every third event"] = b.String()

	// Plain deltas with long text, as a tool call's arguments can be.
	for _, size := range []int{256, 4096, 65536} {
		tokens := make([]string, 64)
		for i := range tokens {
			tokens[i] = strings.Repeat(string(rune('a'+i%26)), size)
		}
		bodies[fmt.Sprintf("deltas of %d bytes", size)] = repeatStream(openAIChunkEvent, tokens, openAIUsageTail)
	}

	// Events of shapes A and B alternate, and B differs from A only after
	// the long hole. No template is learned, because every event is longer
	// than maxRepeatEvent.
	shapeA := `data: {"model":"gpt-4o","choices":[{"delta":{"content":"$"}}],"usage":null}` + "\n\n"
	shapeB := `data: {"model":"gpt-4o","choices":[{"delta":{"content":"$"}}],"usage":null,"x":1}` + "\n\n"
	long := strings.Repeat("x", 16<<10)
	b.Reset()
	b.WriteString(strings.ReplaceAll(shapeA, "$", "1"+long))
	b.WriteString(strings.ReplaceAll(shapeA, "$", "2"+long))
	for range 20 {
		for range 15 {
			b.WriteString(strings.ReplaceAll(shapeB, "$", long))
		}
		b.WriteString(strings.ReplaceAll(shapeA, "$", long))
	}
	bodies["minority template, long holes"] = b.String()

	// The same with short holes.
	b.Reset()
	b.WriteString(strings.ReplaceAll(shapeA, "$", "1"))
	b.WriteString(strings.ReplaceAll(shapeA, "$", "2"))
	for i := range 200 {
		for j := range 15 {
			b.WriteString(strings.ReplaceAll(shapeB, "$", fmt.Sprint(i, j)))
		}
		b.WriteString(strings.ReplaceAll(shapeA, "$", fmt.Sprint(i)))
	}
	bodies["minority template, short holes"] = b.String()

	// Templates are learned only from events of at most maxRepeatEvent
	// bytes, so long events are matched against a template learned from
	// short ones. The first short event sets the model, so it is not
	// quiet. Here every long event matches the template.
	b.Reset()
	b.WriteString(strings.ReplaceAll(shapeA, "$", "0"))
	b.WriteString(strings.ReplaceAll(shapeA, "$", "1"))
	b.WriteString(strings.ReplaceAll(shapeA, "$", "2"))
	for range 64 {
		b.WriteString(strings.ReplaceAll(shapeA, "$", long))
	}
	bodies["short template, long deltas"] = b.String()

	// Here every long event matches the template up to its last bytes and
	// then fails. Each short event matches, which resets the misses, so the
	// template is never dropped.
	b.Reset()
	b.WriteString(strings.ReplaceAll(shapeA, "$", "0"))
	b.WriteString(strings.ReplaceAll(shapeA, "$", "1"))
	b.WriteString(strings.ReplaceAll(shapeA, "$", "2"))
	for i := range 20 {
		for range 15 {
			b.WriteString(strings.ReplaceAll(shapeB, "$", long))
		}
		b.WriteString(strings.ReplaceAll(shapeA, "$", fmt.Sprint(i)))
	}
	bodies["short template, long near misses"] = b.String()

	bodies["openai deltas"] = repeatStream(openAIChunkEvent, repeatTokens(2000), openAIUsageTail)
	return bodies
}

// BenchmarkRepeatReview compares the extractor with the repeat skip on
// and off on streams that may defeat the skip.
func BenchmarkRepeatReview(b *testing.B) {
	for name, body := range reviewRepeatBodies() {
		for _, size := range []int{0, 1, 512, 4096, 32768} {
			if size == 1 && len(body) > 1<<20 {
				continue
			}
			for _, repeat := range []bool{false, true} {
				b.Run(fmt.Sprintf("%s/write=%d/repeat=%v", name, size, repeat), func(b *testing.B) {
					b.SetBytes(int64(len(body)))
					for b.Loop() {
						extractRepeat(b, loopbackURL, body, size, true, repeat)
					}
				})
			}
		}
	}
}

func TestRepeatReviewBodies(t *testing.T) {
	for name, body := range reviewRepeatBodies() {
		t.Run(name, func(t *testing.T) {
			for _, size := range []int{0, 1, 7, 512, 4096} {
				for _, ended := range []bool{true, false} {
					want, _ := extractRepeat(t, loopbackURL, body, size, ended, false)
					got, skipped := extractRepeat(t, loopbackURL, body, size, ended, true)
					if fmt.Sprint(want) != fmt.Sprint(got) {
						t.Fatalf("pieces of %d, ended %v, %d skipped:\non  %+v\noff %+v", size, ended, skipped, got, want)
					}
				}
			}
		})
	}
}

// extractRepeatGzip is extractRepeat for body sent gzip-encoded, written in
// pieces of pieceSize compressed bytes.
func extractRepeatGzip(t testing.TB, rawURL, body string, pieceSize int, bodyEnded, repeat bool) Result {
	t.Helper()

	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	_, err := zw.Write([]byte(body))
	require.NoError(t, err)
	require.NoError(t, zw.Close())

	x := newBenchExtractor(t, rawURL, sseType, "gzip")
	gz, ok := x.framing.(*gzipFramer)
	require.True(t, ok, "framing is %T", x.framing)
	framer, ok := gz.inner.(*sseFramer)
	require.True(t, ok, "inner framing is %T", gz.inner)
	framer.repeat.off = !repeat

	rest := zipped.Bytes()
	if pieceSize <= 0 {
		pieceSize = len(rest)
	}
	for len(rest) > 0 {
		piece := rest[:min(pieceSize, len(rest))]
		rest = rest[len(piece):]
		_, _ = x.Write(piece)
	}
	return x.Finish(bodyEnded)
}

// TestRepeatReviewCases holds the bodies the review tried as
// counterexamples to "the skip never changes the Result".
func TestRepeatReviewCases(t *testing.T) {
	deltas := repeatTokens(40)
	plain := `data: {"model":"m","c":"$"}` + "\n\n"
	usageTail := `data: {"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}` + "\n\n"

	cases := []struct {
		name, url, body string
	}{
		{"object is the hole, provider from URL", openAIURL,
			repeatStream(`data: {"object":"$","model":"m"}`+"\n\n", deltas, usageTail)},
		{"object is the hole, provider undecided", loopbackURL,
			repeatStream(`data: {"object":"$","model":"m"}`+"\n\n", append(deltas, "chat.completion.chunk"), usageTail)},
		{"fingerprint is the hole, then fp_ollama", loopbackURL,
			repeatStream(`data: {"system_fingerprint":"$","model":"m"}`+"\n\n", append(deltas, "fp_ollama", "3.1.2-native"), usageTail)},
		{"event_type is the hole, then a Cohere event", loopbackURL,
			repeatStream(`data: {"event_type":"$","text":"x"}`+"\n\n", append(deltas, "text-generation"), usageTail)},
		{"event line is error after learning", anthropicURL,
			repeatStream(plain, deltas, "") + "event: error\n" + strings.ReplaceAll(plain, "$", "z") + usageTail},
		{"event line after the data line", anthropicURL,
			repeatStream(`data: {"model":"m","c":"$"}`+"\nevent: error\n\n", deltas, usageTail)},
		{"error event line before a matching data line", anthropicURL,
			repeatStream(plain, deltas, "") + "event: error\n: c\nid: 2\n" + strings.ReplaceAll(plain, "$", "z") + usageTail},
		{"too long event name before a matching data line", anthropicURL,
			repeatStream(plain, deltas, "") + "event: " + strings.Repeat("e", 70) + "\n" + strings.ReplaceAll(plain, "$", "z") + usageTail},
		{"error name after a too long one", anthropicURL,
			repeatStream(plain, deltas, "") + "event: " + strings.Repeat("e", 70) + "\nevent: error\n" + strings.ReplaceAll(plain, "$", "z") + usageTail},
		{"DONE in the hole", openAIURL,
			repeatStream(plain, append(deltas, "[DONE]"), "")},
		{"DONE as a data line after learning", openAIURL,
			repeatStream(plain, deltas, "data: [DONE]\n\n")},
		{"data split over two lines after learning", openAIURL,
			repeatStream(plain, deltas, "data: {\"model\":\"m\",\ndata: \"c\":\"x\"}\n\n"+usageTail)},
		{"second data line in a matching event", openAIURL,
			repeatStream(plain, deltas, "data: {\"model\":\"m\",\"c\":\"x\"}\ndata: {\"model\":\"n\"}\n\n")},
		{"body ends without the blank line", openAIURL,
			repeatStream(plain, deltas, `data: {"model":"m","c":"end"}`+"\n")},
		{"body ends inside the hole", openAIURL,
			repeatStream(plain, deltas, `data: {"model":"m","c":"en`)},
		{"body ends before the closing brace", openAIURL,
			repeatStream(plain, deltas, `data: {"model":"m","c":"end"`)},
		{"CR events then LF", openAIURL,
			repeatStream(`data: {"model":"m","c":"$"}`+"\r\r", deltas, "\n"+usageTail)},
		{"CR events with LF after each", openAIURL,
			repeatStream(`data: {"model":"m","c":"$"}`+"\r\r", deltas[:3], "") +
				repeatStream(`data: {"model":"m","c":"$"}`+"\r\r\n", deltas, usageTail)},
		{"CR data line, LF blank line", openAIURL,
			repeatStream("data: {\"model\":\"m\",\"c\":\"$\"}\r\n\r", deltas, "\n"+usageTail)},
		{"mixed line endings", openAIURL,
			repeatStream("data: {\"model\":\"m\",\"c\":\"$\"}\r\n\n", deltas, "") +
				repeatStream("data: {\"model\":\"m\",\"c\":\"$\"}\n\r\n", deltas, "") +
				repeatStream("data: {\"model\":\"m\",\"c\":\"$\"}\r\r\n", deltas, usageTail)},
		{"seventeen comments before each event", openAIURL,
			repeatStream(strings.Repeat(": ping\n", 17)+plain, deltas, usageTail)},
		{"hole with bytes above 0x7F", openAIURL,
			repeatStream(plain, []string{"\xff", "\xc3\xa9", "\x80\x80", "\x7f", "\xef\xbb\xbf", "a"}, usageTail)},
		{"hole with a sentinel lookalike", openAIURL,
			repeatStream(plain, []string{"httpmeter-hole", "a", "b", "httpmeter-hole", "c"}, usageTail)},
		{"top-level array", openAIURL,
			repeatStream(`data: [{"model":"m","c":"$"}]`+"\n\n", deltas, usageTail)},
		{"top-level array with two documents", openAIURL,
			repeatStream(`data: [{"model":"m","c":"$"},{"model":"m"}]`+"\n\n", deltas, `data: [{"model":"m"},{"model":"n"}]`+"\n\n"+usageTail)},
		{"string after the document", openAIURL,
			repeatStream(`data: {"model":"m"} "$"`+"\n\n", deltas, usageTail)},
		{"hole in a deep object", openAIURL,
			repeatStream(`data: {"a":{"b":{"c":{"d":{"e":"$"}}}},"model":"m"}`+"\n\n", deltas, usageTail)},
		{"hole under a long key", openAIURL,
			repeatStream(`data: {"`+strings.Repeat("k", 70)+`":"$","model":"m"}`+"\n\n", deltas, usageTail)},
		{"hole next to an escaped model key", openAIURL,
			repeatStream(`data: {"mod\u0065l":"m","c":"$"}`+"\n\n", deltas, `data: {"mod\u0065l":"n","c":"x"}`+"\n\n")},
		{"hole is a key then model", loopbackURL,
			repeatStream(`data: {"$" : "gpt","c":"x"}`+"\n\n", append(deltas, "model"), "")},
		{"hole is a key with a tab", loopbackURL,
			repeatStream("data: {\"$\"\t: \"gpt\",\"c\":\"x\"}\n\n", append(deltas, "model"), "")},
		{"usage string hole then usage object", openAIURL,
			repeatStream(`data: {"model":"m","usage":"$"}`+"\n\n", deltas, usageTail)},
		{"message stop type after learning", anthropicURL,
			repeatStream(`data: {"type":"content_block_delta","delta":{"text":"$"}}`+"\n\n", deltas,
				`data: {"type":"message_stop","delta":{"text":"x"}}`+"\n\n")},
		{"ollama stream", "http://127.0.0.1:11434/api/chat",
			repeatStream(`data: {"model":"llama3","done":false,"message":{"content":"$"}}`+"\n\n", deltas,
				`data: {"model":"llama3","done":true,"prompt_eval_count":3,"eval_count":9}`+"\n\n")},
		{"gemini stream", loopbackURL,
			repeatStream(`data: {"candidates":[{"content":{"parts":[{"text":"$"}]}}],"modelVersion":"gemini-2"}`+"\n\n", deltas,
				`data: {"candidates":[],"usageMetadata":{"promptTokenCount":2,"candidatesTokenCount":5}}`+"\n\n")},
		{"nested error object hole", openAIURL,
			repeatStream(`data: {"model":"m","error":{"message":"$"}}`+"\n\n", deltas, "")},
		{"error null then error string", openAIURL,
			repeatStream(`data: {"model":"m","error":null,"c":"$"}`+"\n\n", deltas, `data: {"model":"m","error":"x","c":"x"}`+"\n\n")},
		{"BOM then events", openAIURL,
			"\xef\xbb\xbf" + repeatStream(plain, deltas, usageTail)},
		{"model changes back and forth", openAIURL,
			repeatStream(plain, deltas, "") + repeatStream(`data: {"model":"n","c":"$"}`+"\n\n", deltas, "") +
				repeatStream(plain, deltas, "")},
		{"exact repeats then a hole", openAIURL,
			strings.Repeat(strings.ReplaceAll(plain, "$", "same"), 30) + repeatStream(plain, deltas, usageTail)},
		{"event longer than a template, hole grows", openAIURL,
			repeatStream(plain, []string{strings.Repeat("a", 900), strings.Repeat("b", 900), strings.Repeat("c", 1100), "d", strings.Repeat("e", 5000)}, usageTail)},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, ended := range []bool{true, false} {
				for _, size := range repeatPieceSizes {
					want, _ := extractRepeat(t, tc.url, tc.body, size, ended, false)
					got, skipped := extractRepeat(t, tc.url, tc.body, size, ended, true)
					require.Equal(t, want, got, "pieces of %d bytes, ended %v, %d events skipped", size, ended, skipped)
				}
				for _, size := range []int{0, 1, 7, 64} {
					want := extractRepeatGzip(t, tc.url, tc.body, size, ended, false)
					got := extractRepeatGzip(t, tc.url, tc.body, size, ended, true)
					require.Equal(t, want, got, "gzip pieces of %d bytes, ended %v", size, ended)
				}
			}
		})
	}
}

// TestRepeatReviewCuts cuts each body at every byte and finishes it with
// bodyEnded true and false.
func TestRepeatReviewCuts(t *testing.T) {
	bodies := []string{
		repeatStream(`data: {"model":"m","c":"$"}`+"\r\r", repeatTokens(6), "\ndata: [DONE]\r\r"),
		repeatStream(`data: {"model":"m","c":"$"}`+"\r\n\r\n", repeatTokens(6), "data: [DONE]\r\n\r\n"),
		repeatStream("event: x\ndata: {\"type\":\"t\",\"c\":\"$\"}\n\n", repeatTokens(6), "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"),
	}
	for n, body := range bodies {
		for cut := 1; cut <= len(body); cut++ {
			for _, size := range []int{0, 1, 2, 3, 5, 17} {
				for _, ended := range []bool{true, false} {
					want, _ := extractRepeat(t, openAIURL, body[:cut], size, ended, false)
					got, _ := extractRepeat(t, openAIURL, body[:cut], size, ended, true)
					require.Equal(t, want, got, "body %d cut at %d, pieces of %d, ended %v", n, cut, size, ended)
				}
			}
		}
	}
}

// TestRepeatCommentLinesAreNotMisses checks that comment lines, such as
// keep-alives, between events neither count as misses nor stop the skip.
func TestRepeatCommentLinesAreNotMisses(t *testing.T) {
	event := `data: {"model":"m","c":"$"}` + "\n\n"
	for _, comments := range []int{0, 15, 17, 100} {
		body := repeatStream(strings.Repeat(": ping\n", comments)+event, repeatTokens(400), "")
		want, _ := extractRepeat(t, openAIURL, body, 0, true, false)
		got, skipped := extractRepeat(t, openAIURL, body, 0, true, true)
		require.Equal(t, want, got, "%d comment lines", comments)
		assert.GreaterOrEqual(t, skipped, 390, "%d comment lines: events skipped of 400", comments)
	}
}

// FuzzRepeatBody checks the skip on bodies of any shape, so that events of
// different shapes, comments and line endings interleave freely.
func FuzzRepeatBody(f *testing.F) {
	plain := `data: {"model":"m","c":"$"}` + "\n\n"
	f.Add(repeatStream(plain, repeatTokens(6), openAIUsageTail), uint16(0), true, uint8(0))
	f.Add(repeatStream(plain, repeatTokens(6), "")+"event: error\n"+strings.ReplaceAll(plain, "$", "z"), uint16(3), false, uint8(1))
	f.Add(repeatStream("data: {\"model\":\"m\",\"c\":\"$\"}\r\r", repeatTokens(6), "\n"), uint16(5), true, uint8(2))
	f.Add(repeatStream(openAIChunkEvent, repeatTokens(5), "")+repeatStream(anthropicDeltaEvent, repeatTokens(5), anthropicEnd), uint16(7), false, uint8(1))
	f.Add(repeatStream(`data: {"object":"$","model":"m"}`+"\n\n", append(repeatTokens(5), "chat.completion.chunk"), "data: {\"x_groq\":{}}\n\n"), uint16(1), true, uint8(2))

	urls := []string{openAIURL, anthropicURL, loopbackURL}
	f.Fuzz(func(t *testing.T, body string, readSize uint16, bodyEnded bool, urlIndex uint8) {
		if len(body) > 16<<10 {
			return
		}
		rawURL := urls[int(urlIndex)%len(urls)]
		pieceSize := int(readSize) % 300

		want, _ := extractRepeat(t, rawURL, body, pieceSize, bodyEnded, false)
		got, _ := extractRepeat(t, rawURL, body, pieceSize, bodyEnded, true)
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("with repeats skipped\n%+v\nwithout\n%+v", got, want)
		}
	})
}

// FuzzRepeatMix interleaves two event shapes, chosen per token by the bits
// of pattern, so templates are learned, matched, missed and dropped in
// every order.
func FuzzRepeatMix(f *testing.F) {
	plain := `data: {"model":"m","c":"$"}` + "\n\n"
	f.Add(plain, "event: error\n"+plain, "a|b|c|d|e|f|g|h|i|j", "\x0f\xf0", openAIUsageTail, uint16(0), true, uint8(0))
	f.Add(openAIChunkEvent, strings.Replace(openAIChunkEvent, `"gpt-4o"`, `"gpt-4o-mini"`, 1), "a|b|c|d|e|f|g|h", "\x33", "", uint16(3), false, uint8(0))
	f.Add(plain, `data: {"model":"m","c":"$"}`+"\r\r", "a|b|c|d|e|f|g|h", "\x55", "\n", uint16(1), true, uint8(2))
	f.Add(anthropicDeltaEvent, "event: message_stop\n"+`data: {"type":"$"}`+"\n\n", "x|y|z|message_stop|w", "\x08", anthropicEnd, uint16(5), false, uint8(1))
	f.Add(plain, ": ping\n"+plain, "a|b|c|d|e|f|g|h|i|j|k|l|m|n|o|p|q|r|s", "\xfe\xff\xff", "", uint16(0), true, uint8(0))

	urls := []string{openAIURL, anthropicURL, loopbackURL}
	f.Fuzz(func(t *testing.T, eventA, eventB, tokens, pattern, tail string, readSize uint16, bodyEnded bool, urlIndex uint8) {
		var b strings.Builder
		for i, token := range strings.Split(tokens, "|") {
			event := eventA
			if len(pattern) > 0 && pattern[i/8%len(pattern)]>>(i%8)&1 == 1 {
				event = eventB
			}
			b.WriteString(strings.ReplaceAll(event, "$", token))
		}
		b.WriteString(tail)
		body := b.String()
		if len(body) > 64<<10 {
			return
		}
		rawURL := urls[int(urlIndex)%len(urls)]
		pieceSize := int(readSize) % 512

		want, _ := extractRepeat(t, rawURL, body, pieceSize, bodyEnded, false)
		got, _ := extractRepeat(t, rawURL, body, pieceSize, bodyEnded, true)
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("with repeats skipped\n%+v\nwithout\n%+v", got, want)
		}
	})
}
