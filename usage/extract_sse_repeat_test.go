package usage

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// repeatPieceSizes are the write sizes the repeat tests feed bodies in. A
// size of 0 writes the body whole.
var repeatPieceSizes = []int{0, 1, 2, 3, 5, 7, 13, 64, 100, 1000, 4096}

// extractRepeat runs body through an SSE extractor in pieces of pieceSize
// bytes (0: whole) and returns its result and the number of events it
// skipped. With repeat false the extractor never skips an event.
func extractRepeat(t testing.TB, rawURL, body string, pieceSize int, bodyEnded, repeat bool) (Result, int) {
	t.Helper()

	x := newBenchExtractor(t, rawURL, sseType, "")
	framer, ok := x.framing.(*sseFramer)
	require.True(t, ok, "framing is %T", x.framing)
	framer.repeat.off = !repeat

	if pieceSize <= 0 {
		pieceSize = len(body)
	}
	for rest := []byte(body); len(rest) > 0; {
		piece := rest[:min(pieceSize, len(rest))]
		rest = rest[len(piece):]
		_, _ = x.Write(piece)
	}
	skipped := framer.repeat.skipped
	return x.Finish(bodyEnded), skipped
}

// requireSameWithRepeat requires that skipping repeated events changes no
// result, for every piece size, and returns the number of events skipped
// with the body written whole.
func requireSameWithRepeat(t *testing.T, rawURL, body string, bodyEnded bool) int {
	t.Helper()

	wholeSkipped := 0
	for _, size := range repeatPieceSizes {
		want, _ := extractRepeat(t, rawURL, body, size, bodyEnded, false)
		got, skipped := extractRepeat(t, rawURL, body, size, bodyEnded, true)
		require.Equal(t, want, got, "pieces of %d bytes, %d events skipped", size, skipped)
		if size == 0 {
			wholeSkipped = skipped
		}
	}
	return wholeSkipped
}

// repeatStream returns one event per token, made by replacing every "$" in
// event with the token, followed by tail.
func repeatStream(event string, tokens []string, tail string) string {
	var b strings.Builder
	for _, token := range tokens {
		b.WriteString(strings.ReplaceAll(event, "$", token))
	}
	b.WriteString(tail)
	return b.String()
}

// repeatTokens returns n token texts that differ from one event to the next.
func repeatTokens(n int) []string {
	tokens := make([]string, n)
	for i := range tokens {
		tokens[i] = fmt.Sprintf(" tok%d", i)
	}
	return tokens
}

const (
	openAIChunkEvent = `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o",` +
		`"choices":[{"index":0,"delta":{"content":"$"},"finish_reason":null}],"usage":null}` + "\n\n"
	openAIUsageTail = `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o",` +
		`"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":40,"total_tokens":47}}` + "\n\ndata: [DONE]\n\n"
	anthropicDeltaEvent = "event: content_block_delta\n" +
		`data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"$"}}` + "\n\n"
	anthropicStart = "event: message_start\n" +
		`data: {"type":"message_start","message":{"id":"m1","model":"claude-sonnet-4-5","usage":{"input_tokens":12,"output_tokens":1}}}` + "\n\n"
	anthropicEnd = "event: message_delta\n" +
		`data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":30}}` + "\n\n" +
		"event: message_stop\n" + `data: {"type":"message_stop"}` + "\n\n"
)

func TestRepeatSkipsOpenAIDeltas(t *testing.T) {
	body := repeatStream(openAIChunkEvent, repeatTokens(200), openAIUsageTail)

	skipped := requireSameWithRepeat(t, openAIURL, body, true)
	assert.GreaterOrEqual(t, skipped, 190, "events skipped of 200")

	got, _ := extractRepeat(t, openAIURL, body, 0, true, true)
	assert.Equal(t, int64(47), got.Usage.TotalTokens)
	assert.Equal(t, "gpt-4o", got.Model)
	assert.True(t, got.Complete)
}

func TestRepeatSkipsAnthropicDeltas(t *testing.T) {
	body := anthropicStart + repeatStream(anthropicDeltaEvent, repeatTokens(100), anthropicEnd)

	skipped := requireSameWithRepeat(t, anthropicURL, body, true)
	assert.GreaterOrEqual(t, skipped, 90, "events skipped of 100")

	got, _ := extractRepeat(t, anthropicURL, body, 7, true, true)
	assert.Equal(t, int64(12), got.Usage.InputTokens)
	assert.Equal(t, int64(30), got.Usage.OutputTokens)
	assert.Equal(t, "claude-sonnet-4-5", got.Model)
}

func TestRepeatLineEndings(t *testing.T) {
	lf := repeatStream(openAIChunkEvent, repeatTokens(50), openAIUsageTail)
	for name, ending := range map[string]string{"CRLF": "\r\n", "CR": "\r"} {
		t.Run(name, func(t *testing.T) {
			body := strings.ReplaceAll(lf, "\n", ending)
			skipped := requireSameWithRepeat(t, openAIURL, body, true)
			assert.Positive(t, skipped, "events skipped")
		})
	}
}

// TestRepeatExactEvents covers events that repeat byte for byte, which give
// a template without a hole, followed by events that differ.
func TestRepeatExactEvents(t *testing.T) {
	body := repeatStream(openAIChunkEvent, repeatTokens(1), "")
	body = strings.Repeat(body, 30) + repeatStream(openAIChunkEvent, repeatTokens(30), openAIUsageTail)

	skipped := requireSameWithRepeat(t, openAIURL, body, true)
	assert.Positive(t, skipped, "events skipped")
}

// TestRepeatStopsAtChanges covers events shaped like the template that
// change the result: each must be applied, never skipped.
func TestRepeatStopsAtChanges(t *testing.T) {
	deltas := repeatTokens(20)
	modelB := strings.Replace(openAIChunkEvent, `"gpt-4o"`, `"gpt-4o-mini"`, 1)
	escaped := []string{`say \"hi\"`, `line\nbreak`, `tab\t`, `\u0041`}
	tailWithoutModel := `data: {"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":40,"total_tokens":47}}` + "\n\n"

	cases := []struct {
		name string
		url  string
		body string
		// check runs on the result of the whole body read to its end.
		check func(t *testing.T, r Result)
	}{
		{
			name: "model changes and changes back",
			url:  openAIURL,
			body: repeatStream(openAIChunkEvent, deltas, "") + repeatStream(modelB, deltas[:1], "") +
				repeatStream(openAIChunkEvent, deltas, tailWithoutModel),
			check: func(t *testing.T, r Result) { assert.Equal(t, "gpt-4o", r.Model) },
		},
		{
			name:  "model changes last",
			url:   openAIURL,
			body:  repeatStream(openAIChunkEvent, deltas, "") + repeatStream(modelB, deltas[:1], tailWithoutModel),
			check: func(t *testing.T, r Result) { assert.Equal(t, "gpt-4o-mini", r.Model) },
		},
		{
			name: "model is the varying string",
			url:  openAIURL,
			body: repeatStream(`data: {"object":"chat.completion.chunk","model":"$","choices":[],"usage":null}`+"\n\n",
				[]string{"m1", "m2", "m3", "m4", "m5"}, tailWithoutModel),
			check: func(t *testing.T, r Result) { assert.Equal(t, "m5", r.Model) },
		},
		{
			name:  "content with escape sequences",
			url:   openAIURL,
			body:  repeatStream(openAIChunkEvent, append(append(deltas, escaped...), deltas...), openAIUsageTail),
			check: func(t *testing.T, r Result) { assert.Equal(t, int64(47), r.Usage.TotalTokens) },
		},
		{
			name: "type is the varying string",
			url:  anthropicURL,
			body: anthropicStart + repeatStream(`data: {"type":"$","index":0}`+"\n\n",
				[]string{"content_block_start", "content_block_stop", "content_block_start", "message_stop"}, ""),
			check: func(t *testing.T, r Result) { assert.True(t, r.Complete) },
		},
		{
			name: "error event with the same data",
			url:  anthropicURL,
			body: anthropicStart + repeatStream(anthropicDeltaEvent, deltas, "") +
				repeatStream(strings.Replace(anthropicDeltaEvent, "event: content_block_delta", "event: error", 1), deltas[:1], anthropicEnd),
			check: func(t *testing.T, r Result) { assert.False(t, r.Complete) },
		},
		{
			name: "key is the varying string",
			url:  loopbackURL,
			body: repeatStream(`data: {"object":"chat.completion.chunk","$":"gpt-x","choices":[]}`+"\n\n",
				[]string{"modeA", "modeB", "modeC", "model"}, ""),
			check: func(t *testing.T, r Result) { assert.Equal(t, "gpt-x", r.Model) },
		},
		{
			name:  "usage is a string",
			url:   loopbackURL,
			body:  repeatStream(`data: {"model":"m","usage":"$"}`+"\n\n", []string{"a1", "a2", "a3", "a4"}, openAIUsageTail),
			check: func(t *testing.T, r Result) { assert.Equal(t, int64(47), r.Usage.TotalTokens) },
		},
		{
			name: "nested model is the varying string",
			url:  loopbackURL,
			body: repeatStream(`data: {"type":"response.in_progress","response":{"model":"$"}}`+"\n\n",
				[]string{"r1", "r2", "r3", "r4"}, ""),
			check: func(t *testing.T, r Result) { assert.Equal(t, "r4", r.Model) },
		},
		{
			name:  "error code is the varying string",
			url:   loopbackURL,
			body:  repeatStream(`data: {"model":"m","error":{"code":"$"}}`+"\n\n", []string{"c1", "c2", "c3"}, ""),
			check: func(t *testing.T, r Result) { assert.False(t, r.Complete) },
		},
		{
			name: "provider marker appears late",
			url:  loopbackURL,
			body: repeatStream(openAIChunkEvent, deltas, "") +
				repeatStream(strings.Replace(openAIChunkEvent, `"usage":null`, `"usage":null,"x_groq":{"id":"g"}`, 1), deltas[:1], openAIUsageTail),
			check: func(t *testing.T, r Result) { assert.Equal(t, "groq", r.Provider) },
		},
		{
			name:  "comments and ids between events",
			url:   openAIURL,
			body:  repeatStream(": keep-alive\nid: 1\n"+openAIChunkEvent, deltas, openAIUsageTail),
			check: func(t *testing.T, r Result) { assert.Equal(t, int64(47), r.Usage.TotalTokens) },
		},
		{
			name:  "content longer than a template",
			url:   openAIURL,
			body:  repeatStream(openAIChunkEvent, []string{strings.Repeat("a", 2000), strings.Repeat("b", 2000), "c", "d", strings.Repeat("e", 3000)}, openAIUsageTail),
			check: func(t *testing.T, r Result) { assert.Equal(t, int64(47), r.Usage.TotalTokens) },
		},
		{
			name:  "two data lines per event",
			url:   openAIURL,
			body:  repeatStream("data: {\"model\":\"gpt-4o\",\ndata: \"text\":\"$\"}\n\n", deltas, openAIUsageTail),
			check: func(t *testing.T, r Result) { assert.Equal(t, int64(47), r.Usage.TotalTokens) },
		},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			requireSameWithRepeat(t, tc.url, tc.body, true)
			got, _ := extractRepeat(t, tc.url, tc.body, 0, true, true)
			tc.check(t, got)
		})
	}
}

// TestRepeatCloseBeforeEnd closes the body at every event boundary and in
// the middle of events, where a carried partial event must still count.
func TestRepeatCloseBeforeEnd(t *testing.T) {
	body := repeatStream(openAIChunkEvent, repeatTokens(10), openAIUsageTail)
	for cut := 1; cut < len(body); cut += 17 {
		for _, size := range repeatPieceSizes {
			want, _ := extractRepeat(t, openAIURL, body[:cut], size, false, false)
			got, _ := extractRepeat(t, openAIURL, body[:cut], size, false, true)
			require.Equal(t, want, got, "cut at %d, pieces of %d bytes", cut, size)
		}
	}
}

// FuzzRepeat builds streams of events that differ in the text that replaces
// "$" in a template event and checks that skipping repeated events never
// changes the result, whatever the events and the write sizes.
func FuzzRepeat(f *testing.F) {
	f.Add(openAIChunkEvent, " a| b| c| d", openAIUsageTail, uint16(7), true)
	f.Add(anthropicDeltaEvent, "x|y|z|w", anthropicEnd, uint16(1), false)
	f.Add(`data: {"type":"$"}`+"\n\n", "a|b|message_stop", "", uint16(3), false)
	f.Add(`data: {"model":"$","usage":null}`+"\r\n\r\n", "m1|m2|m3", "", uint16(100), true)
	f.Add(`data: {"$":"v"}`+"\n\n", "k1|k2|model", "", uint16(5), true)
	f.Add(`data: {"choices":[{"delta":{"content":"$"}}],"usage":null}`+"\n\n", `a|b\"|c|d`, openAIUsageTail, uint16(2), true)

	f.Fuzz(func(t *testing.T, event, tokens, tail string, readSize uint16, bodyEnded bool) {
		body := repeatStream(event, strings.Split(tokens, "|"), tail)
		if len(body) > 64<<10 {
			return
		}
		pieceSize := int(readSize) % 512

		want, _ := extractRepeat(t, loopbackURL, body, pieceSize, bodyEnded, false)
		got, _ := extractRepeat(t, loopbackURL, body, pieceSize, bodyEnded, true)
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("with repeats skipped\n%+v\nwithout\n%+v", got, want)
		}
	})
}
