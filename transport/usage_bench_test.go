package transport

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"github.com/httpmeter/httpmeter/authctx"
	"github.com/httpmeter/httpmeter/product"
	"github.com/httpmeter/httpmeter/usage"
)

// benchJSONBody returns an OpenAI chat completion of about size bytes whose
// usage object comes last, as OpenAI sends it.
func benchJSONBody(size int) []byte {
	const head = `{"id":"chatcmpl-bench","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"`
	const tail = `"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1200,"completion_tokens":16000,"total_tokens":17200}}`
	content := strings.Repeat("lorem ipsum ", (size-len(head)-len(tail))/12+1)
	return []byte(head + content[:size-len(head)-len(tail)] + tail)
}

// benchSSEBody returns an OpenAI chat stream of about size bytes: content
// chunks, then a usage chunk and [DONE].
func benchSSEBody(size int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < size-300; i++ {
		fmt.Fprintf(&b, "data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"token %d \"}}],\"usage\":null}\n\n", i)
	}
	b.WriteString("data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini\",\"choices\":[],\"usage\":{\"prompt_tokens\":1200,\"completion_tokens\":9000,\"total_tokens\":10200}}\n\n")
	b.WriteString("data: [DONE]\n\n")
	return b.Bytes()
}

// benchRecorder counts events without retaining them, so the benchmarks
// measure the transport and not a growing slice.
type benchRecorder struct{ events int }

func (r *benchRecorder) Record(usage.Event) { r.events++ }

// runRequests sends b.N GET requests to url through rt, reading each body to
// its end, and reports the body size as the bytes processed per operation.
// It also reports cpu-ns/op, the CPU time of the whole test process (client
// and loopback server) per request, which other processes on a busy machine
// disturb less than the wall-clock sec/op.
func runRequests(b *testing.B, rt http.RoundTripper, ctx context.Context, url string, size int) {
	b.Helper()
	client := &http.Client{Transport: rt}
	buf := make([]byte, 32<<10)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	cpuStart, cpuOK := processCPUTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			b.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{resp.Body}, buf)
		_ = resp.Body.Close()
		if err != nil || n != int64(size) {
			b.Fatalf("read %d of %d bytes: %v", n, size, err)
		}
	}
	b.StopTimer()

	if cpuEnd, ok := processCPUTime(); ok && cpuOK {
		b.ReportMetric(float64(cpuEnd-cpuStart)/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkUsageLoopback compares a loopback round trip through the bare
// transport with the same round trip through UsageTransport, for a 64 KiB
// JSON response and a 1 MiB SSE stream. Compare the two with benchstat
// -col /transport.
func BenchmarkUsageLoopback(b *testing.B) {
	bodies := []struct {
		name        string
		contentType string
		body        []byte
	}{
		{name: "json64KiB", contentType: "application/json", body: benchJSONBody(64 << 10)},
		{name: "sse1MiB", contentType: "text/event-stream", body: benchSSEBody(1 << 20)},
	}

	for _, body := range bodies {
		srv := newServer(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", body.contentType)
			_, _ = w.Write(body.body)
		}))
		url := srv.URL + "/v1/chat/completions"

		b.Run("body="+body.name+"/transport=bare", func(b *testing.B) {
			runRequests(b, newLoopbackTransport(b), context.Background(), url, len(body.body))
		})
		b.Run("body="+body.name+"/transport=usage", func(b *testing.B) {
			rec := &benchRecorder{}
			runRequests(b, Usage(newLoopbackTransport(b), rec), context.Background(), url, len(body.body))
			if rec.events != b.N {
				b.Fatalf("recorded %d events for %d requests", rec.events, b.N)
			}
		})
	}
}

// BenchmarkStackInMemory compares the cost of the layers themselves on an
// in-memory base that returns a 64 KiB JSON completion. It runs no layer,
// the full stack (UserAgent, Bearer, Usage), and UserAgent with Bearer
// alone. It also runs otelhttp's client transport with the default global
// tracer and meter providers, which are no-ops.
func BenchmarkStackInMemory(b *testing.B) {
	body := benchJSONBody(64 << 10)
	base := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		return &http.Response{
			StatusCode:    http.StatusOK,
			Header:        http.Header{"Content-Type": {"application/json"}},
			Body:          io.NopCloser(bytes.NewReader(body)),
			ContentLength: int64(len(body)),
			Request:       req,
		}, nil
	})

	app, err := product.NewApp("acme", "0.1.0")
	if err != nil {
		b.Fatal(err)
	}
	feature, err := app.Product("chat")
	if err != nil {
		b.Fatal(err)
	}
	ctx := product.NewContext(authctx.NewContext(context.Background(), testCredential("ada", "")), feature)
	const url = "https://a.example/serving-endpoints/chat/invocations"

	b.Run("transport=bare", func(b *testing.B) {
		runRequests(b, base, ctx, url, len(body))
	})
	b.Run("transport=stack", func(b *testing.B) {
		rec := &benchRecorder{}
		stack := Chain(base,
			func(next http.RoundTripper) http.RoundTripper { return UserAgent(next, app) },
			func(next http.RoundTripper) http.RoundTripper {
				bearer, err := Bearer(next, AllowOrigins("https://a.example"))
				if err != nil {
					b.Fatal(err)
				}
				return bearer
			},
			func(next http.RoundTripper) http.RoundTripper { return Usage(next, rec) },
		)
		runRequests(b, stack, ctx, url, len(body))
		if rec.events != b.N {
			b.Fatalf("recorded %d events for %d requests", rec.events, b.N)
		}
	})
	b.Run("transport=headers", func(b *testing.B) {
		// UserAgent and Bearer alone: the stack without metering, to
		// separate the cost of the headers from the cost of extraction.
		bearer, err := Bearer(base, AllowOrigins("https://a.example"))
		if err != nil {
			b.Fatal(err)
		}
		runRequests(b, UserAgent(bearer, app), ctx, url, len(body))
	})
	b.Run("transport=otelhttp", func(b *testing.B) {
		runRequests(b, otelhttp.NewTransport(base), ctx, url, len(body))
	})
}
