package httpmeter_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"testing"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"github.com/httpmeter/httpmeter"
	"github.com/httpmeter/httpmeter/authctx"
	"github.com/httpmeter/httpmeter/product"
	"github.com/httpmeter/httpmeter/usage"
)

// memoryTransport is an in-memory base: it returns body with contentType for
// every request, without a network or a goroutine, so a benchmark measures
// only the layers above it.
type memoryTransport struct {
	body        []byte
	contentType string
}

func (m memoryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode:    http.StatusOK,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {m.contentType}},
		Body:          io.NopCloser(bytes.NewReader(m.body)),
		ContentLength: int64(len(m.body)),
		Request:       req,
	}, nil
}

// discardSink accepts every batch and keeps nothing.
type discardSink struct{}

func (discardSink) Send(context.Context, []usage.Event) error { return nil }

// BenchmarkStack measures one round trip, with the response body read to
// EOF and closed, over the same in-memory base. It compares the bare base,
// otelhttp.NewTransport with the default no-op OpenTelemetry providers, and
// the httpmeter stack with a no-op Recorder and with a real Sender.
func BenchmarkStack(b *testing.B) {
	bodies := []struct {
		name        string
		file        string
		contentType string
	}{
		{"json", ownBodiesDir + "/openai-chat.json", "application/json"},
		{"sse", ownBodiesDir + "/openai-chat-stream.sse", "text/event-stream; charset=utf-8"},
	}

	for _, body := range bodies {
		data, err := os.ReadFile(body.file)
		if err != nil {
			b.Fatal(err)
		}
		base := memoryTransport{body: data, contentType: body.contentType}

		b.Run("body="+body.name+"/stack=bare", func(b *testing.B) {
			benchmarkRoundTrip(b, base)
		})
		b.Run("body="+body.name+"/stack=otelhttp", func(b *testing.B) {
			benchmarkRoundTrip(b, otelhttp.NewTransport(base))
		})
		b.Run("body="+body.name+"/stack=httpmeter", func(b *testing.B) {
			benchmarkRoundTrip(b, newBenchmarkStack(b, base, usage.RecorderFunc(func(usage.Event) {})))
		})
		b.Run("body="+body.name+"/stack=httpmeter+sender", func(b *testing.B) {
			sender := usage.NewSender(discardSink{})
			defer func() { _ = sender.Close(context.Background()) }()
			benchmarkRoundTrip(b, newBenchmarkStack(b, base, sender))
		})
	}
}

func newBenchmarkStack(b *testing.B, base http.RoundTripper, recorder usage.Recorder) http.RoundTripper {
	stack, err := httpmeter.New(base, httpmeter.Config{
		App:            newApp(b),
		AllowedOrigins: []string{"https://adb-123.example.net"},
		Recorder:       recorder,
	})
	if err != nil {
		b.Fatal(err)
	}
	return stack
}

// benchmarkRoundTrip sends the same request through rt, with a credential
// and a product in its context, and reads each response body to EOF. It also
// reports cpu-ns/op, the CPU time of the whole test process per request,
// garbage collection and a Sender's workers included, which other processes
// on a busy machine disturb less than the wall-clock sec/op.
func benchmarkRoundTrip(b *testing.B, rt http.RoundTripper) {
	app := newApp(b)
	ctx := product.NewContext(context.Background(), newProduct(b, app, "bench"))
	ctx = authctx.NewContext(ctx, authctx.Credential{Token: "dapi-benchmark", Subject: "bench@example.com"})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://adb-123.example.net/serving-endpoints/chat/invocations", nil)
	if err != nil {
		b.Fatal(err)
	}

	b.ReportAllocs()
	cpuStart, cpuOK := processCPUTime()
	for b.Loop() {
		resp, err := rt.RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			b.Fatal(err)
		}
		if err := resp.Body.Close(); err != nil {
			b.Fatal(err)
		}
	}

	if cpuEnd, ok := processCPUTime(); ok && cpuOK {
		b.ReportMetric(float64(cpuEnd-cpuStart)/float64(b.N), "cpu-ns/op")
	}
}
