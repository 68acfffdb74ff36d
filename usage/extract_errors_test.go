package usage

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// requireErrorWarning checks that got reports one error of type errType and
// that no warning repeats the error message.
func requireErrorWarning(t *testing.T, got Result, errType, message string) {
	t.Helper()

	assert.False(t, got.Complete, "an error event makes the body incomplete")
	require.NotEmpty(t, got.Warnings)
	assert.Contains(t, got.Warnings, `usage: the response reported an error of type "`+errType+`"`)
	for _, w := range got.Warnings {
		assert.NotContains(t, w, message, "warnings never carry the error message")
	}
}

func TestOpenAIStreamErrorEvent(t *testing.T) {
	body := `data: {"object":"chat.completion.chunk","model":"gpt-x","choices":[{"delta":{"content":"a"}}]}` + "\n\n" +
		`data: {"error":{"message":"secret detail","type":"server_error","param":null,"code":null}}` + "\n\n"
	got := extractEverySplit(t, openAIURL, sseType, body)

	requireErrorWarning(t, got, "server_error", "secret detail")
	assert.False(t, got.Found)
}

func TestResponsesFailedEvent(t *testing.T) {
	body := "event: response.failed\n" +
		`data: {"type":"response.failed","response":{"model":"gpt-r","error":{"code":"rate_limit_exceeded","message":"secret detail"},"usage":{"input_tokens":9,"output_tokens":0,"total_tokens":9}}}` + "\n\n"
	got := extractEverySplit(t, openAIURL, sseType, body)

	requireErrorWarning(t, got, "rate_limit_exceeded", "secret detail")
	assert.True(t, got.Found, "usage reported with the failure still counts")
	assert.Equal(t, int64(9), got.Usage.InputTokens)
}

func TestResponsesNullErrorIsNotAnError(t *testing.T) {
	body := `{"object":"response","model":"gpt-r","error":null,"usage":{"input_tokens":1,"output_tokens":2,"total_tokens":3}}`
	got := extractEverySplit(t, openAIURL, jsonType, body)

	assert.True(t, got.Complete)
	assert.Empty(t, got.Warnings)
	assert.Equal(t, int64(3), got.Usage.TotalTokens)
}

func TestOllamaErrorLine(t *testing.T) {
	body := `{"model":"llama","created_at":"t","response":"a","done":false}` + "\n" +
		`{"error":"secret detail"}` + "\n"
	got := extractEverySplit(t, "http://127.0.0.1:11434/api/generate", ndjsonType, body)

	requireErrorWarning(t, got, "unknown", "secret detail")
	assert.False(t, got.Found)
	assert.Equal(t, "ollama", got.Provider)
}

func TestAnthropicErrorEvent(t *testing.T) {
	body := "event: message_start\n" +
		`data: {"type":"message_start","message":{"model":"claude-x","usage":{"input_tokens":5,"output_tokens":1}}}` + "\n\n" +
		"event: error\n" +
		`data: {"type":"error","error":{"type":"overloaded_error","message":"secret detail"}}` + "\n\n"
	got := extractEverySplit(t, anthropicURL, sseType, body)

	requireErrorWarning(t, got, "overloaded_error", "secret detail")
	assert.True(t, got.Found, "the usage seen before the error is reported")
	assert.Equal(t, int64(6), got.Usage.TotalTokens)
}

func TestOpenRouterErrorWithUsage(t *testing.T) {
	body := ": OPENROUTER PROCESSING\n\n" +
		`data: {"provider":"X","object":"chat.completion.chunk","model":"a/b","error":{"code":400,"message":"secret detail"},"usage":{"prompt_tokens":4,"completion_tokens":2,"total_tokens":6}}` + "\n\n"
	got := extractEverySplit(t, loopbackURL, sseType, body)

	requireErrorWarning(t, got, "400", "secret detail")
	assert.Equal(t, int64(6), got.Usage.TotalTokens)
	assert.Equal(t, "openrouter", got.Provider)
}

func TestBedrockExceptionFrame(t *testing.T) {
	body := string(bedrockEvent("messageStart", `{"role":"assistant"}`)) +
		string(eventFrame([][2]string{
			{":message-type", "exception"}, {":exception-type", "modelStreamErrorException"}, {":content-type", "application/json"},
		}, `{"message":"secret detail","usage":{"inputTokens":99,"outputTokens":99}}`))
	got := extractEverySplit(t, bedrockURL, awsType, body)

	requireErrorWarning(t, got, "modelStreamErrorException", "secret detail")
	assert.False(t, got.Found, "an exception payload is never read for usage")
	assert.Equal(t, "aws-bedrock", got.Provider)
	assert.Equal(t, "amazon.nova-micro-v1:0", got.Model)
}

func TestBedrockCorruptFrame(t *testing.T) {
	good := bedrockEvent("metadata", `{"usage":{"inputTokens":3,"outputTokens":2,"totalTokens":5}}`)
	bad := bedrockEvent("metadata", `{"usage":{"inputTokens":300,"outputTokens":200,"totalTokens":500}}`)
	bad[len(bad)-1] ^= 0xFF
	got := extractString(t, bedrockURL, awsType, string(good)+string(bad))

	assert.False(t, got.Complete)
	assert.True(t, got.Found)
	assert.Equal(t, int64(5), got.Usage.TotalTokens, "a message whose CRC fails is not applied")
	assert.Contains(t, got.Warnings, "usage: the AWS event stream is corrupt; later events were not read")
}

func TestBedrockCutMidFrame(t *testing.T) {
	good := bedrockEvent("metadata", `{"usage":{"inputTokens":3,"outputTokens":2,"totalTokens":5}}`)
	got := extractString(t, bedrockURL, awsType, string(good[:len(good)-3]))

	assert.False(t, got.Complete)
	assert.False(t, got.Found, "the payload of a cut message is not applied")
	assert.Equal(t, []string{"usage: the AWS event stream ended inside a message"}, got.Warnings)
}

func TestJSONErrorBody(t *testing.T) {
	body := `{"error":{"message":"secret detail","type":"invalid_request_error","code":"invalid_api_key"}}`
	got := extractEverySplit(t, openAIURL, jsonType, body)

	requireErrorWarning(t, got, "invalid_request_error", "secret detail")
	assert.False(t, got.Found)
}

func TestGeminiErrorBody(t *testing.T) {
	body := `{"error":{"code":429,"message":"secret detail","status":"RESOURCE_EXHAUSTED"}}`
	got := extractString(t, loopbackURL, jsonType, body)

	requireErrorWarning(t, got, "429", "secret detail")
	assert.Equal(t, "gemini", got.Provider)
}

func TestResponsesErrorEventTopLevelCode(t *testing.T) {
	body := "event: error\n" +
		`data: {"type":"error","code":"server_error","message":"secret detail","param":null,"sequence_number":4}` + "\n\n"
	got := extractEverySplit(t, openAIURL, sseType, body)

	requireErrorWarning(t, got, "server_error", "secret detail")
}
