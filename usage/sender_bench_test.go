package usage

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// countingSpanExporter drops every span and counts them, so the benchmark
// measures the processor and can tell how many spans it dropped.
type countingSpanExporter struct {
	exported atomic.Int64
}

func (c *countingSpanExporter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	c.exported.Add(int64(len(spans)))
	return nil
}

func (*countingSpanExporter) Shutdown(context.Context) error { return nil }

// BenchmarkEnqueue compares Sender.Record with the OpenTelemetry SDK's
// BatchSpanProcessor.OnEnd, the usual way Go services hand telemetry to a
// background exporter. Both run with default options, GOMAXPROCS producer
// goroutines under b.RunParallel, and a sink or exporter that discards
// everything. The consumers (the Sender's workers, the processor's export
// goroutine) share the same cores as the producers.
//
// The regime sets how fast the producers go:
//   - overload: the producers never yield, so the consumers rarely run. The
//     processor's queue is full for nearly the whole run, so the default
//     processor drops spans after a failed non-blocking channel send and the
//     one built WithBlocking waits for queue space. The Sender's queue fills
//     for part of the run: it queues some events and folds the rest into
//     totals (folded/op reports how many). BenchmarkRecordFolding measures
//     folding alone.
//   - yielding: each producer calls runtime.Gosched after every 64 items,
//     which lets the consumers run. ns/op then includes the consumers' work
//     and the yields. How much each consumer still misses shows in the
//     metrics below: on a 2-vCPU machine the Sender folds a minority of the
//     events, but the default processor still drops most spans.
//
// Every branch reports dropped/op, the share of items that reached neither
// the sink nor a folded total. The Sender also reports folded/op, the share
// delivered inside folded totals. Only branches with equal dropped/op give
// the same guarantee, so compare the Sender with the blocking processor
// for equal loss and with the default one for the cost of losing spans.
func BenchmarkEnqueue(b *testing.B) {
	regimes := []struct {
		name       string
		yieldEvery int
	}{
		{name: "overload", yieldEvery: 0},
		{name: "yielding", yieldEvery: 64},
	}
	for _, regime := range regimes {
		b.Run("regime="+regime.name+"/impl=sender-record", func(b *testing.B) {
			s := NewSender(discardSink{})
			e := testEvent(b, "id", 1, "gpt-4o", 120, 30)

			runProducers(b, regime.yieldEvery, func() { s.Record(e) })

			closeSender(b, s)
			stats := s.Stats()
			b.ReportMetric(float64(stats.Folded)/float64(b.N), "folded/op")
			b.ReportMetric(float64(stats.Dropped.Total())/float64(b.N), "dropped/op")
		})

		b.Run("regime="+regime.name+"/impl=otel-bsp-onend", func(b *testing.B) {
			exporter := &countingSpanExporter{}
			benchmarkBatchSpanProcessor(b, regime.yieldEvery, exporter, sdktrace.NewBatchSpanProcessor(exporter))
		})

		// With WithBlocking the processor waits for queue space instead of
		// dropping spans, the counterpart of a Sender that loses nothing
		// while it can fold.
		b.Run("regime="+regime.name+"/impl=otel-bsp-onend-blocking", func(b *testing.B) {
			exporter := &countingSpanExporter{}
			benchmarkBatchSpanProcessor(b, regime.yieldEvery, exporter, sdktrace.NewBatchSpanProcessor(exporter, sdktrace.WithBlocking()))
		})
	}
}

// runProducers calls produce b.N times from GOMAXPROCS goroutines, each
// calling runtime.Gosched after every yieldEvery calls unless yieldEvery is
// 0, and stops the timer when they are done.
func runProducers(b *testing.B, yieldEvery int, produce func()) {
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		calls := 0
		for pb.Next() {
			produce()

			calls++
			if calls == yieldEvery {
				calls = 0
				runtime.Gosched()
			}
		}
	})
	b.StopTimer()
}

func benchmarkBatchSpanProcessor(b *testing.B, yieldEvery int, exporter *countingSpanExporter, bsp sdktrace.SpanProcessor) {
	provider := sdktrace.NewTracerProvider()
	defer func() { _ = provider.Shutdown(context.Background()) }()
	_, span := provider.Tracer("bench").Start(context.Background(), "chat")
	span.End()
	readOnly, ok := span.(sdktrace.ReadOnlySpan)
	if !ok {
		b.Fatalf("span %T is not a ReadOnlySpan", span)
	}

	runProducers(b, yieldEvery, func() { bsp.OnEnd(readOnly) })

	// Shutdown exports every span still queued, so the difference is what
	// the processor dropped.
	if err := bsp.Shutdown(context.Background()); err != nil {
		b.Fatalf("BatchSpanProcessor.Shutdown: %v", err)
	}
	dropped := int64(b.N) - exporter.exported.Load()
	b.ReportMetric(float64(dropped)/float64(b.N), "dropped/op")
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

// floorSlot is one producer's private total in BenchmarkRecordFloor. The
// padding keeps the slots of different producers off each other's cache
// lines.
type floorSlot struct {
	mu        sync.Mutex
	published atomic.Int64
	total     Event
	_         [128]byte
}

// addCopy adds e to slot without a lock. Like Record, it takes the Event by
// value, so each call copies the whole Event.
//
//go:noinline
func (slot *floorSlot) addCopy(e Event) {
	slot.total.Count += e.Count
	slot.total.Usage.InputTokens += e.Usage.InputTokens
}

// addPublished is addCopy followed by one atomic store of the count, the
// least a producer must do to hand its total to a worker on another core.
//
//go:noinline
func (slot *floorSlot) addPublished(e Event) {
	slot.total.Count += e.Count
	slot.total.Usage.InputTokens += e.Usage.InputTokens
	slot.published.Store(int64(slot.total.Count))
}

// addLocked is addCopy under the slot's mutex.
//
//go:noinline
func (slot *floorSlot) addLocked(e Event) {
	slot.mu.Lock()
	slot.total.Count += e.Count
	slot.total.Usage.InputTokens += e.Usage.InputTokens
	slot.mu.Unlock()
}

// BenchmarkRecordFloor measures the steps that any Record keeping the
// Sender's guarantees pays for, under the same RunParallel load as
// BenchmarkEnqueue. Record takes the Event by value, so every call copies it.
// A worker on another core reads and resets the folded totals, so a fold,
// which updates several fields, needs two atomic writes per Record: a mutex,
// or the two sequence stores of a seqlock. The steps add to a slot of the
// producer's own, so no cache line is shared between cores, and add two
// fields where Record compares a fold key and merges every count.
// step=shared-atomic-add is, for contrast, the one counter that all
// producers increment, as BatchSpanProcessor.OnEnd does for each dropped
// span.
func BenchmarkRecordFloor(b *testing.B) {
	e := testEvent(b, "id", 1, "gpt-4o", 120, 30)

	steps := []struct {
		name string
		add  func(*floorSlot, Event)
	}{
		{"copy-event", (*floorSlot).addCopy},
		{"copy-event+atomic-store", (*floorSlot).addPublished},
		{"copy-event+mutex", (*floorSlot).addLocked},
	}
	for _, step := range steps {
		b.Run("step="+step.name, func(b *testing.B) {
			slots := make([]floorSlot, runtime.GOMAXPROCS(0))
			var next atomic.Int32
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				slot := &slots[int(next.Add(1)-1)%len(slots)]
				for pb.Next() {
					step.add(slot, e)
				}
			})
			b.StopTimer()

			var count int
			for i := range slots {
				count += slots[i].total.Count
			}
			if count != b.N {
				b.Fatalf("slots counted %d events, want %d", count, b.N)
			}
		})
	}

	b.Run("step=shared-atomic-add", func(b *testing.B) {
		var dropped atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				dropped.Add(1)
			}
		})
		if dropped.Load() != int64(b.N) {
			b.Fatalf("counter is %d, want %d", dropped.Load(), b.N)
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
