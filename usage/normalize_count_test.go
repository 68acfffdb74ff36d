package usage

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCountDecoding(t *testing.T) {
	cases := []struct {
		raw     string
		value   int64
		set     bool
		problem string
	}{
		{raw: `12`, value: 12, set: true},
		{raw: `0`, value: 0, set: true},
		{raw: `12.0`, value: 12, set: true},
		{raw: `1e3`, value: 1000, set: true},
		{raw: `null`},
		{raw: `-5`, problem: "is negative (-5); ignored"},
		{raw: `-0.5`, problem: "is negative; ignored"},
		{raw: `-99999999999999999999`, problem: "is negative; ignored"},
		{raw: `2.5`, problem: "is fractional (2.5); ignored"},
		{raw: `99999999999999999999`, value: math.MaxInt64, set: true, problem: "exceeds the int64 range; clamped to 9223372036854775807"},
		{raw: `9223372036854775807`, value: math.MaxInt64, set: true},
		{raw: `1e400`, value: math.MaxInt64, set: true, problem: "exceeds the int64 range; clamped to 9223372036854775807"},
		{raw: `"12"`, problem: "is a string, not a number; ignored"},
		{raw: `true`, problem: "is not a number; ignored"},
		{raw: `{"a":1}`, problem: "is not a number; ignored"},
		{raw: `[1]`, problem: "is not a number; ignored"},
	}
	for _, tc := range cases {
		t.Run(tc.raw, func(t *testing.T) {
			var c count
			require.NoError(t, c.UnmarshalJSON([]byte(tc.raw)))

			assert.Equal(t, tc.value, c.value)
			assert.Equal(t, tc.set, c.set)
			assert.Equal(t, tc.problem, c.problem)
		})
	}
}

func TestBadCountsRejectedWithWarnings(t *testing.T) {
	body := `{"object":"chat.completion","usage":{"prompt_tokens":-5,"completion_tokens":2.5,` +
		`"total_tokens":"9","prompt_tokens_details":{"cached_tokens":true}}}`
	got := extractEverySplit(t, openAIURL, jsonType, body)

	assert.False(t, got.Found, "a usage object with no usable count is not found")
	assert.ElementsMatch(t, []string{
		"usage: prompt_tokens is negative (-5); ignored",
		"usage: completion_tokens is fractional (2.5); ignored",
		"usage: total_tokens is a string, not a number; ignored",
		"usage: prompt_tokens_details.cached_tokens is not a number; ignored",
	}, got.Warnings)
}

func TestBadCountKeepsGoodOnes(t *testing.T) {
	body := `{"object":"chat.completion","usage":{"prompt_tokens":7,"completion_tokens":-1,"total_tokens":7}}`
	got := extractString(t, openAIURL, jsonType, body)

	assert.True(t, got.Found)
	assert.Equal(t, int64(7), got.Usage.InputTokens)
	assert.Equal(t, int64(0), got.Usage.OutputTokens)
	assert.Equal(t, []string{"usage: completion_tokens is negative (-1); ignored"}, got.Warnings)
}

func TestHugeCountsSaturate(t *testing.T) {
	body := `{"type":"message","model":"c","usage":{"input_tokens":9223372036854775807,` +
		`"cache_read_input_tokens":9223372036854775807,"cache_creation_input_tokens":5,"output_tokens":99999999999999999999}}`
	got := extractString(t, anthropicURL, jsonType, body)

	assert.Equal(t, int64(math.MaxInt64), got.Usage.InputTokens, "input + cache saturates instead of wrapping")
	assert.Equal(t, int64(math.MaxInt64), got.Usage.OutputTokens)
	assert.Equal(t, int64(math.MaxInt64), got.Usage.TotalTokens)
	assert.Equal(t, []string{"usage: output_tokens exceeds the int64 range; clamped to 9223372036854775807"}, got.Warnings)
}

func TestGeminiCountsSaturate(t *testing.T) {
	body := `{"usageMetadata":{"promptTokenCount":1,"candidatesTokenCount":9223372036854775807,"thoughtsTokenCount":9}}`
	got := extractString(t, loopbackURL, jsonType, body)

	assert.Equal(t, int64(math.MaxInt64), got.Usage.OutputTokens)
	assert.Equal(t, int64(math.MaxInt64), got.Usage.TotalTokens)
	assert.Equal(t, int64(9), got.Usage.ReasoningTokens)
}

func TestRepeatedWarningsAreBounded(t *testing.T) {
	var b strings.Builder
	for i := range 100 {
		fmt.Fprintf(&b, `data: {"object":"chat.completion.chunk","usage":{"prompt_tokens":-%d,"completion_tokens":-7}}`+"\n\n", i+1)
	}
	got := extractString(t, openAIURL, sseType, b.String())

	require.Len(t, got.Warnings, maxWarnings+1)
	assert.Contains(t, got.Warnings, "usage: completion_tokens is negative (-7); ignored", "a repeated warning is listed once")
	assert.Equal(t, "usage: more warnings were dropped", got.Warnings[maxWarnings])
}
