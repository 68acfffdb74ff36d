package usage

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
)

// benchReadSize is the size of each Write in the benchmarks: 32 KiB, the
// buffer io.Copy uses.
const benchReadSize = 32 << 10

const (
	openAIChatURL       = "https://api.openai.com/v1/chat/completions"
	openAIEmbeddingsURL = "https://api.openai.com/v1/embeddings"
)

// jsonUsage and jsonResponse are what an encoding/json usage reader
// unmarshals: only the model and the usage, as a typed struct.
type jsonUsage struct {
	PromptTokens     int64 `json:"prompt_tokens"`
	CompletionTokens int64 `json:"completion_tokens"`
	TotalTokens      int64 `json:"total_tokens"`
}

type jsonResponse struct {
	Model string     `json:"model"`
	Usage *jsonUsage `json:"usage"`
}

// unmarshalJSONUsage reads the usage of a JSON body with encoding/json.
func unmarshalJSONUsage(body []byte) (jsonResponse, error) {
	var r jsonResponse
	err := json.Unmarshal(body, &r)
	return r, err
}

// unmarshalSSEUsage reads the usage of an SSE body with encoding/json: it
// unmarshals the JSON of every data line and keeps the last non-null usage.
func unmarshalSSEUsage(body []byte) (jsonResponse, error) {
	var last jsonResponse
	for len(body) > 0 {
		line := body
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			line, body = body[:i], body[i+1:]
		} else {
			body = nil
		}

		data, ok := bytes.CutPrefix(line, []byte("data: "))
		if !ok || bytes.Equal(data, []byte("[DONE]")) {
			continue
		}
		var chunk jsonResponse
		if err := json.Unmarshal(data, &chunk); err != nil {
			return last, err
		}
		last.Model = chunk.Model
		if chunk.Usage != nil {
			last.Usage = chunk.Usage
		}
	}
	return last, nil
}

// benchBody is one body that the extractor and encoding/json both read.
type benchBody struct {
	name        string
	url         string
	contentType string
	body        []byte
	unmarshal   func([]byte) (jsonResponse, error)

	// wantTotal is the total_tokens the body reports.
	wantTotal int64
}

func benchBodies() []benchBody {
	embeddings := embeddingsBody(24, 3072)
	return []benchBody{
		{name: "chat-json-64KiB", url: openAIChatURL, contentType: "application/json",
			body: chatJSONBody(64 << 10), unmarshal: unmarshalJSONUsage, wantTotal: benchUsage.TotalTokens},
		{name: "sse-1MiB", url: openAIChatURL, contentType: "text/event-stream; charset=utf-8",
			body: sseStreamBody(1 << 20), unmarshal: unmarshalSSEUsage, wantTotal: benchUsage.TotalTokens},
		{name: fmt.Sprintf("embeddings-%dKiB", len(embeddings)>>10), url: openAIEmbeddingsURL, contentType: "application/json",
			body: embeddings, unmarshal: unmarshalJSONUsage, wantTotal: benchUsage.InputTokens},
	}
}

// BenchmarkExtractUsage compares the extractor with encoding/json on the
// same bodies. Run it with -benchmem and compare with benchstat -col /impl.
func BenchmarkExtractUsage(b *testing.B) {
	for _, body := range benchBodies() {
		b.Run("body="+body.name+"/impl=extractor", func(b *testing.B) {
			req, resp := benchExchange(body.url, body.contentType, "")
			b.SetBytes(int64(len(body.body)))
			b.ReportAllocs()
			for b.Loop() {
				x, _ := NewExtractor(req, resp)
				if r := extractInPieces(x, body.body, benchReadSize); r.Usage.TotalTokens != body.wantTotal {
					b.Fatalf("extractor found %+v", r.Usage)
				}
			}
		})

		b.Run("body="+body.name+"/impl=encoding-json", func(b *testing.B) {
			b.SetBytes(int64(len(body.body)))
			b.ReportAllocs()
			for b.Loop() {
				r, err := body.unmarshal(body.body)
				if err != nil || r.Usage == nil || r.Usage.TotalTokens != body.wantTotal {
					b.Fatalf("encoding/json found %+v, %v", r.Usage, err)
				}
			}
		})
	}
}

// allocSizes are the body sizes whose allocations per response are
// compared: they must not grow with the size.
var allocSizes = []struct {
	name string
	size int
}{
	{"1KiB", 1 << 10},
	{"64KiB", 64 << 10},
	{"1MiB", 1 << 20},
	{"16MiB", 16 << 20},
}

// BenchmarkExtractorAllocs reports the allocations of one response, from
// NewExtractor to Finish, for bodies from 1 KiB to 16 MiB.
func BenchmarkExtractorAllocs(b *testing.B) {
	for _, size := range allocSizes {
		for _, kind := range []struct {
			name        string
			contentType string
			body        []byte
		}{
			{"chat-json", "application/json", chatJSONBody(size.size)},
			{"sse", "text/event-stream", sseStreamBody(size.size)},
		} {
			b.Run("body="+kind.name+"/size="+size.name, func(b *testing.B) {
				req, resp := benchExchange(openAIChatURL, kind.contentType, "")
				b.SetBytes(int64(len(kind.body)))
				b.ReportAllocs()
				for b.Loop() {
					x, _ := NewExtractor(req, resp)
					extractInPieces(x, kind.body, benchReadSize)
				}
			})
		}
	}
}
