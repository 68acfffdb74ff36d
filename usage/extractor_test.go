package usage

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewExtractorContentTypes(t *testing.T) {
	cases := []struct {
		contentType, encoding string
		ok                    bool
	}{
		{contentType: "application/json", ok: true},
		{contentType: "application/json; charset=utf-8", ok: true},
		{contentType: "Application/JSON", ok: true},
		{contentType: "application/problem+json", ok: true},
		{contentType: "text/event-stream;charset=utf-8", ok: true},
		{contentType: "application/x-ndjson", ok: true},
		{contentType: "application/vnd.amazon.eventstream", ok: true},
		{contentType: "application/json", encoding: "gzip", ok: true},
		{contentType: "application/json", encoding: "identity", ok: true},
		{contentType: "application/json", encoding: "br"},
		{contentType: "application/json", encoding: "zstd"},
		{contentType: "text/html"},
		{contentType: "image/png"},
		{contentType: "application/octet-stream"},
		{contentType: ""},
		{contentType: "application/json; charset=\"unterminated"},
	}
	for _, tc := range cases {
		t.Run(tc.contentType+"/"+tc.encoding, func(t *testing.T) {
			resp := &http.Response{StatusCode: http.StatusOK, Header: http.Header{}}
			resp.Header.Set("Content-Type", tc.contentType)
			resp.Header.Set("Content-Encoding", tc.encoding)

			x, ok := NewExtractor(nil, resp)
			assert.Equal(t, tc.ok, ok)
			if ok {
				require.NotNil(t, x)
				x.Finish(false)
			}
		})
	}
}

func TestNewExtractorNilResponse(t *testing.T) {
	x, ok := NewExtractor(nil, nil)

	assert.False(t, ok)
	assert.Nil(t, x)
}

func TestFinishBeforeEOFIsIncomplete(t *testing.T) {
	x := newTestExtractor(t, openAIURL, "text/event-stream")
	_, _ = x.Write([]byte("data: {\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2,\"total_tokens\":3}}\n\n"))
	got := x.Finish(false)

	assert.True(t, got.Found)
	assert.False(t, got.Complete, "a stream the caller stopped reading before its final message is incomplete")
	assert.Equal(t, int64(3), got.Usage.TotalTokens)
}

func TestFinishBeforeEOFAfterFinalMessageIsComplete(t *testing.T) {
	const chunk = `data: {"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}` + "\n\n"
	cases := map[string]struct {
		contentType string
		parts       []string
	}{
		"json document":  {jsonType, []string{`{"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}`}},
		"sse done":       {"text/event-stream", []string{chunk + "data: [DONE]\n\n"}},
		"sse done split": {"text/event-stream", []string{chunk + "data:[DO", "NE]\r\n"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			x := newTestExtractor(t, openAIURL, tc.contentType)
			for _, part := range tc.parts {
				_, _ = x.Write([]byte(part))
			}
			got := x.Finish(false)

			assert.True(t, got.Found)
			assert.True(t, got.Complete)
		})
	}
}

func TestTruncatedJSONIsIncomplete(t *testing.T) {
	got := extractString(t, openAIURL, jsonType, `{"model":"m","usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3},"cho`)

	assert.False(t, got.Found, "a document cut before its end is not applied")
	assert.False(t, got.Complete)
}

func TestFinishTwiceAndWriteAfterFinish(t *testing.T) {
	x := newTestExtractor(t, openAIURL, jsonType)
	_, _ = x.Write([]byte(`{"usage":{"prompt_tokens":1}}`))
	first := x.Finish(true)

	n, err := x.Write([]byte(`{"usage":{"prompt_tokens":2}}`))
	assert.Equal(t, len(`{"usage":{"prompt_tokens":2}}`), n)
	assert.NoError(t, err)
	assert.Equal(t, int64(1), first.Usage.InputTokens)
	assert.Equal(t, Result{}, x.Finish(true))
}

func TestEmptyBody(t *testing.T) {
	got := extractBody(t, openAIURL, jsonType, "", nil)

	assert.False(t, got.Found)
	assert.True(t, got.Complete)
	assert.Equal(t, "openai", got.Provider)
}

func TestRawUsageBounds(t *testing.T) {
	padding := strings.Repeat("x", MaxRawBytes)
	big := `{"object":"chat.completion","usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7,"note":"` + padding + `"}}`
	got := extractString(t, openAIURL, jsonType, big)

	assert.True(t, got.Found, "a usage object over MaxRawBytes is still decoded")
	assert.Equal(t, int64(7), got.Usage.TotalTokens)
	assert.Nil(t, got.Usage.Raw, "but not kept raw")

	huge := `{"object":"chat.completion","usage":{"note":"` + strings.Repeat("x", maxUsageCapture) + `","prompt_tokens":3}}`
	got = extractString(t, openAIURL, jsonType, huge)
	assert.False(t, got.Found)
	assert.Equal(t, []string{"usage: a usage object larger than 16384 bytes was ignored"}, got.Warnings)
}

func TestModelFromURL(t *testing.T) {
	cases := []struct{ url, model string }{
		{"https://bedrock-runtime.us-west-2.amazonaws.com/model/anthropic.claude-3-haiku-20240307-v1:0/converse", "anthropic.claude-3-haiku-20240307-v1:0"},
		{"https://bedrock-runtime.us-west-2.amazonaws.com/model/arn%3Aaws%3Abedrock%3Aus-west-2%3A1%3Ainference-profile%2Fus.x/invoke", "arn:aws:bedrock:us-west-2:1:inference-profile/us.x"},
		{"https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse", "gemini-2.5-pro"},
		{"https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.0-flash:generateContent", "gemini-2.0-flash"},
		{"https://adb-1.2.azuredatabricks.net/serving-endpoints/my-endpoint/invocations", "my-endpoint"},
		{"https://adb-1.2.azuredatabricks.net/serving-endpoints/chat/completions", ""},
		{"https://api.openai.com/v1/chat/completions", ""},
	}
	for _, tc := range cases {
		t.Run(tc.model, func(t *testing.T) {
			got := extractString(t, tc.url, jsonType, `{"usage":{"inputTokens":1,"outputTokens":1}}`)

			assert.Equal(t, tc.model, got.Model)
		})
	}
}

func TestBodyModelWinsOverURL(t *testing.T) {
	got := extractString(t, "https://generativelanguage.googleapis.com/v1beta/models/alias:generateContent", jsonType,
		`{"usageMetadata":{"promptTokenCount":1},"modelVersion":"gemini-2.5-flash-001"}`)

	assert.Equal(t, "gemini-2.5-flash-001", got.Model)
}

func TestProviderFromHost(t *testing.T) {
	cases := []struct{ url, host, provider string }{
		{"https://api.mistral.ai/v1/chat/completions", "", "mistral"},
		{"https://myres.openai.azure.com/openai/deployments/d/chat/completions", "", "azure-openai"},
		{"https://bedrock-runtime.eu-west-1.amazonaws.com/model/m/converse", "", "aws-bedrock"},
		{"https://s3.amazonaws.com/x", "", ""},
		{"https://router.huggingface.co/v1/chat/completions", "", "huggingface-router"},
		{"https://router.huggingface.co/fireworks-ai/v1/chat/completions", "", "huggingface-router (fireworks-ai)"},
		{"https://dbc-1.cloud.databricks.com/serving-endpoints/chat/completions", "", "databricks"},
		{"http://127.0.0.1:9000/serving-endpoints/e/invocations", "", "databricks"},
		{"http://127.0.0.1:9000/v1/chat/completions", "api.groq.com", "groq"},
		{"http://127.0.0.1:9000/v1/chat/completions", "API.DeepSeek.com.:443", "deepseek"},
		{"https://notopenrouter.ai/v1", "", ""},
		{"https://us-east5-aiplatform.googleapis.com/v1/projects/p/locations/us-east5/publishers/google/models/gemini-2.5-pro:generateContent", "", "gemini"},
		{"https://us-east5-aiplatform.googleapis.com/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-sonnet-4@20250514:streamRawPredict", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.url+tc.host, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, tc.url, nil)
			require.NoError(t, err)
			req.Host = tc.host

			assert.Equal(t, tc.provider, providerFromRequest(req))
		})
	}
}

// bodyDetectable lists the manifest providers that the body alone names;
// Mistral, Databricks and the Hugging Face router send plain OpenAI bodies
// and need the request host.
var bodyDetectable = map[string]bool{
	"openai": true, "azure-openai": true, "anthropic": true, "anthropic-compatible": true,
	"gemini": true, "aws-bedrock": true, "ollama": true, "tgi": true, "groq": true,
	"deepseek": true, "openrouter": true, "cohere": true,
}

func TestProviderFromBodyOnLoopback(t *testing.T) {
	for _, dir := range []string{corpusDir, testdataDir} {
		if _, err := os.Stat(dir); os.IsNotExist(err) && dir == corpusDir {
			continue
		}

		for _, row := range loadManifest(t, dir) {
			if !bodyDetectable[row.provider] || strings.Join(row.counts[:], "") == "" {
				continue
			}
			t.Run(row.file, func(t *testing.T) {
				body, err := os.ReadFile(filepath.Join(dir, row.file))
				require.NoError(t, err)

				got := extractBody(t, "http://127.0.0.1:8080/v1/any", row.contentType, row.contentEncoding, [][]byte{body})
				assert.Equal(t, row.provider, got.Provider)
			})
		}
	}
}

func TestGzipBody(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write([]byte(`{"object":"chat.completion","usage":{"prompt_tokens":2,"completion_tokens":3,"total_tokens":5}}`))
	require.NoError(t, zw.Close())
	compressed := buf.Bytes()

	got := extractBody(t, openAIURL, jsonType, "gzip", [][]byte{compressed[:10], compressed[10:]})
	assert.True(t, got.Complete)
	assert.Equal(t, int64(5), got.Usage.TotalTokens)

	got = extractBody(t, openAIURL, jsonType, "gzip", [][]byte{compressed[:len(compressed)-6]})
	assert.False(t, got.Complete, "a cut gzip stream is incomplete")
	assert.Contains(t, got.Warnings, "usage: the gzip body ended early")

	got = extractBody(t, openAIURL, jsonType, "gzip", [][]byte{[]byte("not gzip at all")})
	assert.False(t, got.Found)
	assert.False(t, got.Complete)
	assert.Contains(t, got.Warnings, "usage: the gzip body is invalid; the rest was not read")
}

func TestGzipAbortedEarly(t *testing.T) {
	req, err := http.NewRequest(http.MethodPost, openAIURL, nil)
	require.NoError(t, err)
	resp := &http.Response{StatusCode: http.StatusOK, Header: http.Header{
		"Content-Type": {sseType}, "Content-Encoding": {"gzip"},
	}}
	x, ok := NewExtractor(req, resp)
	require.True(t, ok)

	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write([]byte("data: {\"object\":\"chat.completion.chunk\",\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1}}\n\n"))
	require.NoError(t, zw.Flush())
	_, _ = x.Write(buf.Bytes())

	got := x.Finish(false)
	assert.False(t, got.Complete)
	assert.True(t, got.Found, "usage decoded before the caller stopped still counts")
}

// TestExtractorMemoryIsBounded feeds 32 MiB of stream events through one
// extractor and requires the live heap to stay flat, since nothing of the
// body may be kept.
func TestExtractorMemoryIsBounded(t *testing.T) {
	x := newTestExtractor(t, openAIURL, sseType)
	var event strings.Builder
	for i := range 64 {
		fmt.Fprintf(&event, `data: {"object":"chat.completion.chunk","model":"m","choices":[{"delta":{"content":"token %d \"quoted\" \\ text"}}],"usage":null}`+"\n\n", i)
	}
	chunk := []byte(event.String())

	feed := func(total int) {
		for n := 0; n < total; n += len(chunk) {
			_, _ = x.Write(chunk)
		}
	}
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}

	feed(1 << 20)
	before := heap()
	feed(32 << 20)
	after := heap()

	_, _ = x.Write([]byte(`data: {"object":"chat.completion.chunk","usage":{"prompt_tokens":5,"completion_tokens":6,"total_tokens":11}}` + "\n\n"))
	got := x.Finish(true)
	assert.Equal(t, int64(11), got.Usage.TotalTokens)
	assert.Less(t, int64(after)-int64(before), int64(256<<10), "live heap grew by %d bytes over 32 MiB of body", int64(after)-int64(before))
}

func TestCohereV1StreamEnd(t *testing.T) {
	body := `{"is_finished":false,"event_type":"text-generation","text":"Hi"}` + "\n" +
		`{"is_finished":true,"event_type":"stream-end","response":{"text":"Hi","meta":{"billed_units":{"input_tokens":6,"output_tokens":2}}}}` + "\n"
	got := extractEverySplit(t, loopbackURL, ndjsonType, body)

	assert.Equal(t, "cohere", got.Provider)
	assert.Equal(t, int64(6), got.Usage.InputTokens)
	assert.Equal(t, int64(8), got.Usage.TotalTokens)
	assert.JSONEq(t, `{"input_tokens":6,"output_tokens":2}`, string(got.Usage.Raw))
}

func TestInvocationMetricsOnlyFillIn(t *testing.T) {
	chunk := func(event string) string {
		return string(eventFrame([][2]string{{":event-type", "chunk"}, {":message-type", "event"}},
			`{"bytes":"`+base64.StdEncoding.EncodeToString([]byte(event))+`"}`))
	}

	withMessages := chunk(`{"type":"message_start","message":{"model":"claude-b","usage":{"input_tokens":4,"cache_read_input_tokens":10,"output_tokens":1}}}`) +
		chunk(`{"type":"message_delta","usage":{"output_tokens":3}}`) +
		chunk(`{"type":"message_stop","amazon-bedrock-invocationMetrics":{"inputTokenCount":4,"outputTokenCount":3}}`)
	got := extractEverySplit(t, bedrockURL, awsType, withMessages)
	assert.Equal(t, int64(14), got.Usage.InputTokens, "Anthropic's own usage, with its cache reads, is kept")
	assert.Equal(t, int64(10), got.Usage.CachedInputTokens)
	assert.Equal(t, "claude-b", got.Model)

	metricsOnly := chunk(`{"generation":"hi","prompt_token_count":null}`) +
		chunk(`{"generation":"","amazon-bedrock-invocationMetrics":{"inputTokenCount":9,"outputTokenCount":5,"invocationLatency":3}}`)
	got = extractEverySplit(t, bedrockURL, awsType, metricsOnly)
	assert.True(t, got.Found)
	assert.Equal(t, int64(9), got.Usage.InputTokens)
	assert.Equal(t, int64(14), got.Usage.TotalTokens)
	assert.Equal(t, "aws-bedrock", got.Provider)
}

func TestInvokeChunkNotBase64(t *testing.T) {
	body := string(eventFrame([][2]string{{":event-type", "chunk"}, {":message-type", "event"}}, `{"bytes":"%%%not base64"}`))
	got := extractString(t, bedrockURL, awsType, body)

	assert.False(t, got.Found)
	assert.Equal(t, []string{"usage: an InvokeModel stream chunk is not valid base64; skipped"}, got.Warnings)
}

func TestBedrockInvokeHeaders(t *testing.T) {
	invoke := "https://bedrock-runtime.us-east-1.amazonaws.com/model/meta.llama3-8b-instruct-v1:0/invoke"
	newResponse := func() *http.Response {
		resp := &http.Response{StatusCode: http.StatusOK, Header: http.Header{}}
		resp.Header.Set("Content-Type", jsonType)
		resp.Header.Set("X-Amzn-Bedrock-Input-Token-Count", "12")
		resp.Header.Set("X-Amzn-Bedrock-Output-Token-Count", "30")
		return resp
	}
	req, err := http.NewRequest(http.MethodPost, invoke, nil)
	require.NoError(t, err)

	x, ok := NewExtractor(req, newResponse())
	require.True(t, ok)
	_, _ = x.Write([]byte(`{"generation":"hi","prompt_token_count":12,"generation_token_count":30,"stop_reason":"stop"}`))
	got := x.Finish(true)
	assert.True(t, got.Found, "the headers report the counts when the body has no usage object")
	assert.Equal(t, int64(12), got.Usage.InputTokens)
	assert.Equal(t, int64(42), got.Usage.TotalTokens)
	assert.Equal(t, "meta.llama3-8b-instruct-v1:0", got.Model)

	x, ok = NewExtractor(req, newResponse())
	require.True(t, ok)
	_, _ = x.Write([]byte(`{"type":"message","model":"claude","usage":{"input_tokens":2,"cache_read_input_tokens":10,"output_tokens":30}}`))
	got = x.Finish(true)
	assert.Equal(t, int64(12), got.Usage.InputTokens, "the body's own usage replaces the headers")
	assert.Equal(t, int64(10), got.Usage.CachedInputTokens)

	resp := newResponse()
	resp.Header.Set("X-Amzn-Bedrock-Input-Token-Count", "-4")
	x, ok = NewExtractor(req, resp)
	require.True(t, ok)
	got = x.Finish(true)
	assert.Equal(t, int64(30), got.Usage.OutputTokens)
	assert.Equal(t, []string{"usage: X-Amzn-Bedrock-Input-Token-Count is negative (-4); ignored"}, got.Warnings)
}
