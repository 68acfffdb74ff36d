package usage

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sseUsageChunk is an OpenAI usage chunk; sseEvents frames it among other
// events with the line ending eol.
const sseUsageChunk = `{"object":"chat.completion.chunk","model":"m-1","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17}}`

func sseEvents(eol string) string {
	return ": comment line" + eol +
		"retry: 1000" + eol +
		"event: chunk" + eol +
		`data: {"object":"chat.completion.chunk","model":"m-1","choices":[{"delta":{"content":"data: {\"usage\":1}"}}],"usage":null}` + eol + eol +
		":" + eol +
		"id: 7" + eol +
		"data:" + sseUsageChunk + eol + eol +
		"data: [DONE]" + eol + eol
}

func TestSSELineEndingsEverySplit(t *testing.T) {
	for name, eol := range map[string]string{"LF": "\n", "CRLF": "\r\n", "CR": "\r"} {
		t.Run(name, func(t *testing.T) {
			got := extractEverySplit(t, openAIURL, sseType, sseEvents(eol))

			assert.True(t, got.Found)
			assert.True(t, got.Complete)
			assert.Equal(t, int64(12), got.Usage.InputTokens)
			assert.Equal(t, int64(5), got.Usage.OutputTokens)
			assert.Equal(t, "m-1", got.Model)
			assert.JSONEq(t, `{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17}`, string(got.Usage.Raw))
		})
	}
}

func TestSSEMixedLineEndings(t *testing.T) {
	body := "data: {\"usage\":\r\n" +
		"data: {\"prompt_tokens\":1,\r" +
		"data: \"completion_tokens\":2}}\n" +
		"\r\n"
	got := extractEverySplit(t, openAIURL, sseType, body)

	assert.True(t, got.Found, "data lines of one event join with newlines")
	assert.Equal(t, int64(3), got.Usage.TotalTokens)
}

func TestSSEMultiLineData(t *testing.T) {
	body := "data: {\n" +
		"data:   \"object\": \"chat.completion.chunk\",\n" +
		"data:   \"usage\": {\"prompt_tokens\": 4,\n" +
		"data: \"completion_tokens\": 6}\n" +
		"data: }\n\n"
	got := extractEverySplit(t, openAIURL, sseType, body)

	assert.Equal(t, int64(10), got.Usage.TotalTokens)
}

func TestSSENoDoneAndNoFinalBlankLine(t *testing.T) {
	body := "event: message_start\n" +
		`data: {"type":"message_start","message":{"model":"c","usage":{"input_tokens":3,"output_tokens":1}}}` + "\n\n" +
		"event: message_delta\n" +
		`data: {"type":"message_delta","usage":{"output_tokens":8}}`
	got := extractEverySplit(t, anthropicURL, sseType, body)

	assert.True(t, got.Found)
	assert.True(t, got.Complete, "the last event's JSON is whole, so the body is complete")
	assert.Equal(t, int64(11), got.Usage.TotalTokens)
}

func TestSSECutInsideEvent(t *testing.T) {
	body := `data: {"object":"chat.completion.chunk","usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}` + "\n\n" +
		`data: {"object":"chat.completion.chunk","usage":{"prompt_tokens":3,"comp`
	got := extractString(t, openAIURL, sseType, body)

	assert.True(t, got.Found)
	assert.False(t, got.Complete)
	assert.Equal(t, int64(4), got.Usage.TotalTokens)
}

func TestSSEBrokenEventDoesNotHideNext(t *testing.T) {
	body := "data: {\"usage\": {\"prompt_tokens\": \n\n" +
		"data: not json at all\n\n" +
		`data: {"object":"chat.completion.chunk","usage":{"prompt_tokens":2,"completion_tokens":2,"total_tokens":4}}` + "\n\n"
	got := extractEverySplit(t, openAIURL, sseType, body)

	assert.True(t, got.Found)
	assert.Equal(t, int64(4), got.Usage.TotalTokens)
}

func TestSSEUnknownAndLongFieldNames(t *testing.T) {
	body := "dataX: {\"usage\":{\"prompt_tokens\":100}}\n" +
		strings.Repeat("f", 300) + ": {\"usage\":{\"prompt_tokens\":100}}\n" +
		"data\n" +
		"data: {\"object\":\"chat.completion.chunk\",\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1}}\n\n"
	got := extractEverySplit(t, openAIURL, sseType, body)

	assert.True(t, got.Found)
	assert.Equal(t, int64(1), got.Usage.InputTokens)
	assert.Equal(t, int64(2), got.Usage.TotalTokens)
}

func TestSSEEventNameSplitAnywhere(t *testing.T) {
	body := "event: error\n" + `data: {"message":"overloaded"}` + "\n\n"
	got := extractEverySplit(t, anthropicURL, sseType, body)

	assert.False(t, got.Complete)
	require.Len(t, got.Warnings, 1)
	assert.Contains(t, got.Warnings[0], "error")
	assert.NotContains(t, got.Warnings[0], "overloaded", "warnings carry no message text")
}

func TestSSELeadingByteOrderMark(t *testing.T) {
	got := extractEverySplit(t, openAIURL, sseType, "\xEF\xBB\xBFdata: "+sseUsageChunk+"\n\n")

	assert.True(t, got.Found, "the byte order mark does not hide the first field")
	assert.Equal(t, int64(17), got.Usage.TotalTokens)
}

func TestSSELongEventNameIgnored(t *testing.T) {
	// The name starts with "error" but is longer than the capture limit, so
	// it must never match "error", whatever the read boundaries.
	body := "event: error" + strings.Repeat("x", 2*maxWordCapture) + "\n" +
		"data: " + sseUsageChunk + "\n\n"
	got := extractEverySplit(t, openAIURL, sseType, body)

	assert.True(t, got.Found)
	assert.True(t, got.Complete, "a long event name is not an error event")
	assert.Empty(t, got.Warnings)
}

func TestSSECarriageReturnLinesLinear(t *testing.T) {
	// Lines that end in CR alone must cost about what lines that end in LF
	// cost. A search for the next LF on every line would scan the rest of
	// the Write's bytes once per line, which is quadratic in its size.
	elapsed := func(eol string) time.Duration {
		event := "data: {\"a\":1}" + eol + eol
		body := strings.Repeat(event, (2<<20)/len(event)) + "data: " + sseUsageChunk + eol + eol
		x := newTestExtractor(t, openAIURL, sseType)

		start := time.Now()
		_, _ = x.Write([]byte(body))
		got := x.Finish(true)
		took := time.Since(start)

		require.Equal(t, int64(17), got.Usage.TotalTokens, "line ending %q", eol)
		return took
	}

	lf := elapsed("\n")
	cr := elapsed("\r")
	assert.Less(t, cr, 4*lf+100*time.Millisecond, "CR lines took %v, LF lines %v", cr, lf)
}
