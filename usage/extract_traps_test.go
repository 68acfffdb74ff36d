package usage

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestNestedUsageBeforeRealIgnored(t *testing.T) {
	body := `{"object":"chat.completion","model":"m",` +
		`"choices":[{"message":{"content":"x","usage":{"prompt_tokens":900}}}],` +
		`"metadata":{"usage":{"prompt_tokens":800,"completion_tokens":800}},` +
		`"x_vendor":{"usage":{"prompt_tokens":700}},` +
		`"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}`
	got := extractEverySplit(t, openAIURL, jsonType, body)

	assert.True(t, got.Found)
	assert.Equal(t, int64(3), got.Usage.InputTokens)
	assert.Equal(t, int64(4), got.Usage.OutputTokens)
	assert.Equal(t, int64(7), got.Usage.TotalTokens)
}

func TestNestedUsageAfterRealIgnored(t *testing.T) {
	body := `{"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7},` +
		`"x_groq":{"usage":{"prompt_tokens":500,"completion_tokens":500,"total_tokens":1000}},` +
		`"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"{\"usage\":{\"prompt_tokens\":1}}"}}]}}],` +
		`"extra":{"deeper":{"usage":{"prompt_tokens":600}}}}`
	got := extractEverySplit(t, loopbackURL, jsonType, body)

	assert.Equal(t, int64(3), got.Usage.InputTokens)
	assert.Equal(t, int64(4), got.Usage.OutputTokens)
	assert.Equal(t, "groq", got.Provider, "x_groq marks Groq")
}

func TestNestedUsageOnlyIsNotFound(t *testing.T) {
	body := "data: {\"object\":\"chat.completion.chunk\",\"x_groq\":{\"usage\":{\"prompt_tokens\":5}}," +
		"\"choices\":[{\"delta\":{\"content\":\"\\\"usage\\\":{\\\"prompt_tokens\\\":9}\"}}]}\n\n"
	got := extractEverySplit(t, loopbackURL, sseType, body)

	assert.False(t, got.Found)
	assert.True(t, got.Complete)
}

func TestCumulativeSnapshotsLastWins(t *testing.T) {
	var b strings.Builder
	for n := 1; n <= 50; n++ {
		b.WriteString(`data: {"object":"chat.completion.chunk","usage":{"prompt_tokens":10,"completion_tokens":`)
		b.WriteString(strconv.Itoa(n))
		b.WriteString(`,"total_tokens":`)
		b.WriteString(strconv.Itoa(10 + n))
		b.WriteString("}}\n\n")
	}
	got := extractString(t, openAIURL, sseType, b.String())

	assert.Equal(t, int64(10), got.Usage.InputTokens, "never summed")
	assert.Equal(t, int64(50), got.Usage.OutputTokens)
	assert.Equal(t, int64(60), got.Usage.TotalTokens)
}

func TestNullAfterRealUsageKept(t *testing.T) {
	body := "data: {\"object\":\"chat.completion.chunk\",\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":6,\"total_tokens\":11}}\n\n" +
		"data: {\"object\":\"chat.completion.chunk\",\"usage\":null}\n\n" +
		"data: [DONE]\n\n"
	got := extractEverySplit(t, openAIURL, sseType, body)

	assert.True(t, got.Found)
	assert.Equal(t, int64(11), got.Usage.TotalTokens)
	assert.JSONEq(t, `{"prompt_tokens":5,"completion_tokens":6,"total_tokens":11}`, string(got.Usage.Raw))
}

func TestZeroPlaceholderAfterRealKept(t *testing.T) {
	body := "data: {\"object\":\"chat.completion.chunk\",\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":6,\"total_tokens\":11}}\n\n" +
		"data: {\"object\":\"chat.completion.chunk\",\"usage\":{\"prompt_tokens\":0,\"completion_tokens\":0,\"total_tokens\":0}}\n\n"
	got := extractString(t, openAIURL, sseType, body)

	assert.Equal(t, int64(5), got.Usage.InputTokens)
	assert.Equal(t, int64(11), got.Usage.TotalTokens)
}

func TestZeroBeforeRealReplaced(t *testing.T) {
	body := "data: {\"object\":\"chat.completion.chunk\",\"usage\":{\"prompt_tokens\":0,\"completion_tokens\":0,\"total_tokens\":0}}\n\n" +
		"data: {\"object\":\"chat.completion.chunk\",\"usage\":{\"prompt_tokens\":2,\"completion_tokens\":1,\"total_tokens\":3}}\n\n"
	got := extractString(t, openAIURL, sseType, body)

	assert.Equal(t, int64(3), got.Usage.TotalTokens)
}

func TestAllZeroUsageIsFound(t *testing.T) {
	got := extractString(t, openAIURL, jsonType, `{"usage":{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0}}`)

	assert.True(t, got.Found, "a reported zero is known, not missing")
	assert.True(t, got.Usage.IsZero())
}

func TestAnthropicDeltaSupersedesStart(t *testing.T) {
	body := "event: message_start\n" +
		`data: {"type":"message_start","message":{"model":"claude-x","usage":{"input_tokens":2,"cache_creation_input_tokens":30,"cache_read_input_tokens":0,"output_tokens":1}}}` + "\n\n" +
		"event: message_delta\n" +
		`data: {"type":"message_delta","usage":{"input_tokens":6,"cache_read_input_tokens":40,"output_tokens":9}}` + "\n\n"
	got := extractEverySplit(t, anthropicURL, sseType, body)

	assert.Equal(t, int64(6+40+30), got.Usage.InputTokens, "delta values supersede, cache_creation is carried over")
	assert.Equal(t, int64(40), got.Usage.CachedInputTokens)
	assert.Equal(t, int64(30), got.Usage.CacheCreationInputTokens)
	assert.Equal(t, int64(9), got.Usage.OutputTokens)
	assert.Equal(t, int64(85), got.Usage.TotalTokens)
	assert.Equal(t, "claude-x", got.Model)
}

func TestResponsesToolUsageIgnored(t *testing.T) {
	body := "event: response.created\n" +
		`data: {"type":"response.created","response":{"model":"gpt-r","tool_usage":{"image_gen":{"input_tokens":0,"output_tokens":0}},"usage":null}}` + "\n\n" +
		"event: response.tool_usage.image_gen.completed\n" +
		`data: {"type":"response.tool_usage.image_gen.completed","usage":{"input_tokens":70,"output_tokens":80}}` + "\n\n"
	got := extractEverySplit(t, openAIURL, sseType, body)

	assert.False(t, got.Found, "only response.usage counts in a Responses stream")
	assert.Equal(t, "gpt-r", got.Model)
}

func TestEscapedModelNameDecoded(t *testing.T) {
	body := `{"object":"chat.completion","model":"meta-llama\/Llama-3.1-8B-Instruct \u00e9","usage":{"prompt_tokens":1}}`
	got := extractEverySplit(t, loopbackURL, jsonType, body)

	assert.Equal(t, "meta-llama/Llama-3.1-8B-Instruct é", got.Model)
}

func TestVendorUsageNeverReplacesReal(t *testing.T) {
	const realUsage = `"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}`
	extensions := map[string]string{
		"meta.billed_units": `"meta":{"billed_units":{"input_tokens":900,"output_tokens":900}}`,
		"message.usage":     `"message":{"role":"assistant","usage":{"input_tokens":900,"output_tokens":900}}`,
		"response.usage":    `"response":{"usage":{"input_tokens":900,"output_tokens":900}}`,
		"delta.usage":       `"delta":{"usage":{"prompt_tokens":900,"completion_tokens":900}}`,
		"invocationMetrics": `"amazon-bedrock-invocationMetrics":{"inputTokenCount":900,"outputTokenCount":900}`,
		"duplicate null":    `"usage":null`,
	}
	for name, extension := range extensions {
		t.Run(name, func(t *testing.T) {
			for _, body := range []string{
				`{"object":"chat.completion",` + realUsage + `,` + extension + `}`,
				`{"object":"chat.completion",` + extension + `,` + realUsage + `}`,
			} {
				got := extractEverySplit(t, loopbackURL, jsonType, body)

				assert.True(t, got.Found, body)
				assert.Equal(t, int64(3), got.Usage.InputTokens, body)
				assert.Equal(t, int64(4), got.Usage.OutputTokens, body)
				assert.Equal(t, int64(7), got.Usage.TotalTokens, body)
			}
		})
	}
}

func TestResponsesUsageBeforeSideUsage(t *testing.T) {
	for _, data := range []string{
		`{"type":"response.completed","response":{"model":"gpt-r","usage":{"input_tokens":10,"output_tokens":5,"total_tokens":15}},"usage":{"input_tokens":70,"output_tokens":80}}`,
		`{"type":"response.completed","usage":{"input_tokens":70,"output_tokens":80},"response":{"model":"gpt-r","usage":{"input_tokens":10,"output_tokens":5,"total_tokens":15}}}`,
	} {
		got := extractEverySplit(t, openAIURL, sseType, "data: "+data+"\n\n")

		assert.True(t, got.Found, data)
		assert.Equal(t, int64(10), got.Usage.InputTokens, data)
		assert.Equal(t, int64(5), got.Usage.OutputTokens, data)
		assert.Equal(t, int64(15), got.Usage.TotalTokens, data)
	}
}

func TestMessageStartUsageBeforeTopLevel(t *testing.T) {
	for _, data := range []string{
		`{"type":"message_start","message":{"model":"claude-x","usage":{"input_tokens":10,"output_tokens":1}},"usage":{"input_tokens":999}}`,
		`{"type":"message_start","usage":{"input_tokens":999},"message":{"model":"claude-x","usage":{"input_tokens":10,"output_tokens":1}}}`,
	} {
		got := extractEverySplit(t, anthropicURL, sseType, "event: message_start\ndata: "+data+"\n\n")

		assert.True(t, got.Found, data)
		assert.Equal(t, int64(10), got.Usage.InputTokens, data)
		assert.Equal(t, int64(1), got.Usage.OutputTokens, data)
	}
}

func TestStaleTotalNotCarriedOver(t *testing.T) {
	body := "data: {\"object\":\"chat.completion.chunk\",\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":1,\"total_tokens\":11}}\n\n" +
		"data: {\"object\":\"chat.completion.chunk\",\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":5}}\n\n"
	got := extractEverySplit(t, openAIURL, sseType, body)

	assert.Equal(t, int64(10), got.Usage.InputTokens)
	assert.Equal(t, int64(5), got.Usage.OutputTokens)
	assert.Equal(t, int64(15), got.Usage.TotalTokens, "the last snapshot reports no total, so it is input + output")
}

func TestAnthropicZeroDeltaKeepsStart(t *testing.T) {
	// Anthropic-compatible servers such as SGLang send input_tokens 0 in
	// message_delta after the real count in message_start. Anthropic's
	// counts are cumulative, so a zero after a real value is a placeholder.
	body := "event: message_start\n" +
		`data: {"type":"message_start","message":{"model":"claude-x","usage":{"input_tokens":15,"cache_read_input_tokens":100,"output_tokens":1}}}` + "\n\n" +
		"event: message_delta\n" +
		`data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"input_tokens":0,"cache_read_input_tokens":0,"output_tokens":54}}` + "\n\n"
	got := extractEverySplit(t, loopbackURL, sseType, body)

	assert.Equal(t, int64(115), got.Usage.InputTokens)
	assert.Equal(t, int64(100), got.Usage.CachedInputTokens)
	assert.Equal(t, int64(54), got.Usage.OutputTokens)
	assert.Equal(t, int64(169), got.Usage.TotalTokens)
}

func TestEscapedUsageKeyCounts(t *testing.T) {
	// encoding/json, and so the caller, reads "us\u0061ge" as "usage".
	body := `{"object":"chat.completion","model":"m","us\u0061ge":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}`
	got := extractEverySplit(t, openAIURL, jsonType, body)

	assert.True(t, got.Found)
	assert.Equal(t, int64(7), got.Usage.TotalTokens)
}
