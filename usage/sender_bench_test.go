package usage

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// discardSpanExporter drops every span, so the benchmark measures only the
// processor's enqueue path.
type discardSpanExporter struct{}

func (discardSpanExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardSpanExporter) Shutdown(context.Context) error                             { return nil }

// BenchmarkEnqueue compares Sender.Record with the OpenTelemetry SDK's
// BatchSpanProcessor.OnEnd, the usual way Go services hand telemetry to a
// background exporter. Both run with default options and a sink that
// accepts everything. When the producers outrun the consumer, the default
// processor drops spans while the Sender folds events into totals.
func BenchmarkEnqueue(b *testing.B) {
	b.Run("impl=sender-record", func(b *testing.B) {
		s := NewSender(discardSink{})
		defer closeSender(b, s)
		e := testEvent(b, "id", 1, "gpt-4o", 120, 30)

		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				s.Record(e)
			}
		})
	})

	b.Run("impl=otel-bsp-onend", func(b *testing.B) {
		benchmarkBatchSpanProcessor(b, sdktrace.NewBatchSpanProcessor(discardSpanExporter{}))
	})

	// With WithBlocking the processor waits for queue space instead of
	// dropping spans, which matches the Sender's promise to lose nothing
	// while it can fold.
	b.Run("impl=otel-bsp-onend-blocking", func(b *testing.B) {
		benchmarkBatchSpanProcessor(b, sdktrace.NewBatchSpanProcessor(discardSpanExporter{}, sdktrace.WithBlocking()))
	})
}

func benchmarkBatchSpanProcessor(b *testing.B, bsp sdktrace.SpanProcessor) {
	defer func() { _ = bsp.Shutdown(context.Background()) }()

	provider := sdktrace.NewTracerProvider()
	defer func() { _ = provider.Shutdown(context.Background()) }()
	_, span := provider.Tracer("bench").Start(context.Background(), "chat")
	span.End()
	readOnly, ok := span.(sdktrace.ReadOnlySpan)
	if !ok {
		b.Fatalf("span %T is not a ReadOnlySpan", span)
	}

	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			bsp.OnEnd(readOnly)
		}
	})
}

// BenchmarkRecordFolding measures Record while the sink hangs, so every event
// after the first few thousand is folded into a total.
func BenchmarkRecordFolding(b *testing.B) {
	release := make(chan struct{})
	s := NewSender(blockingSink(release))
	defer func() {
		close(release)
		closeSender(b, s)
	}()
	e := testEvent(b, "id", 1, "gpt-4o", 120, 30)

	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s.Record(e)
		}
	})
}

// BenchmarkRequestPath measures the latency of one metered request as the
// caller sees it: a GET to a loopback LLM stand-in, reading its body, then
// handing the event to a Sender whose beacon sink points at a server that
// never answers. Requests run one at a time, and iterations alternate
// between recording and not recording, so both latency distributions see
// the same load from the rest of the machine. It reports the 99th percentiles as p99-none-ns and p99-hung-ns and
// their quotient as p99-hung/none.
func BenchmarkRequestPath(b *testing.B) {
	llm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"model":"gpt-4o","usage":{"prompt_tokens":120,"completion_tokens":30,"total_tokens":150}}`)
	}))
	defer llm.Close()

	release := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer hung.Close()
	defer close(release)

	s := NewSender(NewBeaconSink(WithBeaconHTTPClient(hung.Client())))
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_ = s.Close(ctx)
	}()

	client := llm.Client()
	defer client.CloseIdleConnections()
	e := testEvent(b, "id", 1, "gpt-4o", 120, 30)
	e.Credential.Host = hung.URL

	var withoutSink, withHungSink []time.Duration

	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		resp, err := client.Get(llm.URL + "/v1/chat/completions")
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()

		if i%2 == 1 {
			s.Record(e)
			withHungSink = append(withHungSink, time.Since(start))
		} else {
			withoutSink = append(withoutSink, time.Since(start))
		}
	}
	b.StopTimer()

	if len(withoutSink) == 0 || len(withHungSink) == 0 {
		return
	}
	p99None := percentile(withoutSink, 99)
	p99Hung := percentile(withHungSink, 99)
	b.ReportMetric(float64(p99None.Nanoseconds()), "p99-none-ns")
	b.ReportMetric(float64(p99Hung.Nanoseconds()), "p99-hung-ns")
	b.ReportMetric(float64(p99Hung)/float64(p99None), "p99-hung/none")
}

// percentile sorts latencies and returns the p-th percentile.
func percentile(latencies []time.Duration, p int) time.Duration {
	slices.Sort(latencies)
	return latencies[len(latencies)*p/100]
}
