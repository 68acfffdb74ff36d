package usage

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// benchUsage is the usage that every generated body reports at its end.
var benchUsage = Usage{InputTokens: 1234, OutputTokens: 5678, TotalTokens: 6912}

// benchExchange returns a POST of rawURL and its 200 response with the
// given content type. Nothing is sent: the request only names the provider
// and model.
func benchExchange(rawURL, contentType, contentEncoding string) (*http.Request, *http.Response) {
	req := httptest.NewRequest(http.MethodPost, rawURL, nil)
	resp := &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Request: req}
	resp.Header.Set("Content-Type", contentType)
	if contentEncoding != "" {
		resp.Header.Set("Content-Encoding", contentEncoding)
	}
	return req, resp
}

// newBenchExtractor returns an extractor for the exchange benchExchange
// builds.
func newBenchExtractor(tb testing.TB, rawURL, contentType, contentEncoding string) *Extractor {
	tb.Helper()

	x, ok := NewExtractor(benchExchange(rawURL, contentType, contentEncoding))
	if !ok {
		tb.Fatalf("NewExtractor rejected content type %q, encoding %q", contentType, contentEncoding)
	}
	return x
}

// extractInPieces feeds body to x in pieces of readSize bytes, as a caller
// reading the body would, and returns the result.
func extractInPieces(x *Extractor, body []byte, readSize int) Result {
	for len(body) > 0 {
		n := min(readSize, len(body))
		x.Write(body[:n])
		body = body[n:]
	}
	return x.Finish(true)
}

// generatedProse is English text with the escapes and non-ASCII characters
// that chat content carries.
const generatedProse = `The quarterly report shows \"steady growth\" in all regions.\n` +
	`Revenue rose 12% year over year; costs fell in Zürich and São Paulo.\n` +
	`Next steps: review the {\"usage\": 1} placeholder and ship \u00e9t\u00e9 features.\n`

// chatJSONBody returns an OpenAI chat completion of about size bytes whose
// usage object comes last, after the long message content.
func chatJSONBody(size int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"id":"chatcmpl-bench","object":"chat.completion","created":1733300000,` +
		`"model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":"`)
	for b.Len() < size-300 {
		b.WriteString(generatedProse)
	}
	b.WriteString(`"},"logprobs":null,"finish_reason":"stop"}],`)
	fmt.Fprintf(&b, `"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d,`+
		`"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}},`+
		`"system_fingerprint":"fp_bench"}`,
		benchUsage.InputTokens, benchUsage.OutputTokens, benchUsage.TotalTokens)
	return b.Bytes()
}

// sseChunk is one OpenAI streaming chunk with include_usage set, which
// carries "usage":null until the last chunk.
const sseChunk = `data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1733300000,` +
	`"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_bench","choices":[{"index":0,` +
	`"delta":{"content":" growth"},"logprobs":null,"finish_reason":null}],"usage":null}` + "\n\n"

// sseTokens are the token texts that sseStreamBody cycles through, so that
// consecutive chunks differ in their content as a real stream's do.
var sseTokens = []string{" growth", " of", " the", " market", ",", " which", " grew", " 12", "%", " in", " 2024", "."}

// sseChunkWith returns sseChunk with token as its content.
func sseChunkWith(token string) string {
	return strings.Replace(sseChunk, `" growth"`, strconv.Quote(token), 1)
}

// sseUsageTail returns the final usage chunk and the end marker of an
// OpenAI stream.
func sseUsageTail() string {
	return fmt.Sprintf(`data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1733300000,`+
		`"model":"gpt-4o-2024-08-06","choices":[],"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}}`+
		"\n\ndata: [DONE]\n\n",
		benchUsage.InputTokens, benchUsage.OutputTokens, benchUsage.TotalTokens)
}

// sseStreamBody returns an OpenAI chat stream of about size bytes.
func sseStreamBody(size int) []byte {
	tail := sseUsageTail()

	var b bytes.Buffer
	b.Grow(size + len(sseChunk))
	for i := 0; b.Len()+len(tail) < size; i++ {
		b.WriteString(sseChunkWith(sseTokens[i%len(sseTokens)]))
	}
	b.WriteString(tail)
	return b.Bytes()
}

// embeddingsBody returns an OpenAI embeddings response with vectors of
// dimensions random floats each, as text-embedding-3-large returns them.
func embeddingsBody(vectors, dimensions int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))

	var b bytes.Buffer
	b.WriteString(`{"object":"list","data":[`)
	for i := range vectors {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"object":"embedding","index":%d,"embedding":[`, i)
		for d := range dimensions {
			if d > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatFloat(rng.Float64()*0.2-0.1, 'g', -1, 32))
		}
		b.WriteString(`]}`)
	}
	fmt.Fprintf(&b, `],"model":"text-embedding-3-large","usage":{"prompt_tokens":%d,"total_tokens":%d}}`,
		benchUsage.InputTokens, benchUsage.InputTokens)
	return b.Bytes()
}
