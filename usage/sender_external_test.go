package usage_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/httpmeter/httpmeter/authctx"
	"github.com/httpmeter/httpmeter/product"
	"github.com/httpmeter/httpmeter/usage"
)

// The tests in this file use only the exported API of package usage. Each
// holds the Sender and its sinks to a promise of their doc comments.

// externalProduct returns the product that every event of these tests names.
func externalProduct(t testing.TB) product.Product {
	t.Helper()
	app, err := product.NewApp("acme", "0.1.0")
	require.NoError(t, err)
	p, err := app.Product("crew_gen")
	require.NoError(t, err)
	return p
}

// externalEvent returns a reported event of user with input tokens equal to
// count, so that token sums and event counts can be compared directly. Its
// credential names no workspace, so a beacon skips it unless the test sets
// Credential.Host to a loopback server.
func externalEvent(t testing.TB, id string, user int, model string, count int) usage.Event {
	return usage.Event{
		ID:      id,
		Time:    time.Date(2026, 12, 5, 1, 0, 0, 0, time.UTC),
		Product: externalProduct(t),
		Credential: authctx.Credential{
			Token:   fmt.Sprintf("user-token-%d", user),
			Subject: fmt.Sprintf("user-%d@example.com", user),
			Method:  authctx.MethodOnBehalfOf,
		},
		Method:   http.MethodPost,
		Host:     "llm.example.com",
		Path:     "/v1/chat/completions",
		Status:   http.StatusOK,
		Provider: "openai",
		Model:    model,
		Usage:    usage.Usage{InputTokens: int64(count), OutputTokens: 1, TotalTokens: int64(count) + 1},
		Source:   usage.SourceReported,
		Complete: true,
		Count:    count,
	}
}

// acceptingSink stores a copy of every event it accepts. When respond is set,
// it decides the outcome of each call, and the sink then stores only the
// events that the returned error reports as delivered.
type acceptingSink struct {
	mu       sync.Mutex
	accepted []usage.Event
	calls    int
	called   chan struct{}
	respond  func(ctx context.Context, call int, events []usage.Event) error
}

func newAcceptingSink(respond func(ctx context.Context, call int, events []usage.Event) error) *acceptingSink {
	return &acceptingSink{respond: respond, called: make(chan struct{}, 1)}
}

func (s *acceptingSink) Send(ctx context.Context, events []usage.Event) error {
	s.mu.Lock()
	call := s.calls
	s.calls++
	s.mu.Unlock()
	select {
	case s.called <- struct{}{}:
	default:
	}

	var err error
	if s.respond != nil {
		err = s.respond(ctx, call, events)
	}

	delivered := len(events)
	if err != nil {
		delivered = 0
		if partial, ok := errors.AsType[*usage.PartialError](err); ok {
			delivered = min(max(partial.Delivered, 0), len(events))
		}
	}
	s.mu.Lock()
	s.accepted = append(s.accepted, events[:delivered]...)
	s.mu.Unlock()
	return err
}

func (s *acceptingSink) snapshot() []usage.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]usage.Event(nil), s.accepted...)
}

// waitCalled waits for the first call of Send.
func (s *acceptingSink) waitCalled(t *testing.T) {
	t.Helper()
	select {
	case <-s.called:
	case <-time.After(5 * time.Second):
		require.FailNow(t, "the sink was never called")
	}
}

// hangUntilCancelled is a respond function of a sink that is down but honours
// its context.
func hangUntilCancelled(ctx context.Context, _ int, _ []usage.Event) error {
	<-ctx.Done()
	return ctx.Err()
}

// syncBuffer is a log destination that worker goroutines write while the
// test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// sumCounts returns the summed Count and input tokens of events, and how many
// times each ID occurs.
func sumCounts(events []usage.Event) (count, input int64, ids map[string]int) {
	ids = make(map[string]int, len(events))
	for _, e := range events {
		count += int64(e.Count)
		input += e.Usage.InputTokens
		ids[e.ID]++
	}
	return count, input, ids
}

func closeWithin(t *testing.T, s *usage.Sender, d time.Duration) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return s.Close(ctx)
}

// TestSenderConservationUnderChaos records from many goroutines while others
// flush and read Stats, against a sink that fails, delivers part of a batch
// or requests a wait at random, and then closes while producers still run.
// Every event has as many input tokens as its Count, so the tokens the sink
// accepted must equal Stats.Sent, and Recorded must split exactly into Sent
// and the drop reasons.
func TestSenderConservationUnderChaos(t *testing.T) {
	var random sync.Mutex
	rng := rand.New(rand.NewPCG(1, 2))
	sink := newAcceptingSink(func(_ context.Context, _ int, events []usage.Event) error {
		random.Lock()
		roll := rng.IntN(10)
		cut := rng.IntN(len(events) + 1)
		random.Unlock()
		switch roll {
		case 0:
			return errors.New("collector unavailable")
		case 1:
			return &usage.PartialError{Delivered: cut, Err: errors.New("connection reset")}
		case 2:
			return &usage.RetryAfterError{After: time.Millisecond, Err: errors.New("rate limited")}
		}
		return nil
	})
	s := usage.NewSender(sink, usage.WithWorkers(3), usage.WithQueueEvents(64), usage.WithMaxFoldKeys(4),
		usage.WithBatchSize(7), usage.WithBatchInterval(time.Millisecond),
		usage.WithRetry(1000, time.Microsecond, time.Millisecond))

	var recorded atomic.Int64
	stop := make(chan struct{})
	var producers sync.WaitGroup
	for g := range 6 {
		producers.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				count := 1 + i%3
				s.Record(externalEvent(t, fmt.Sprintf("g%d-%d", g, i), (g+i)%5, fmt.Sprintf("model-%d", i%7), count))
				recorded.Add(int64(count))
			}
		})
	}
	var readers sync.WaitGroup
	readers.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
			_ = s.Flush(ctx)
			cancel()
			// Queued counts each event as its Count, at most 3 here.
			st := s.Stats()
			assert.LessOrEqual(t, st.Queued, int64(3*64), "more events queued than the queue bound")
		}
	})

	time.Sleep(200 * time.Millisecond)
	closeErr := closeWithin(t, s, 10*time.Second)
	close(stop)
	producers.Wait()
	readers.Wait()
	require.NoError(t, closeErr)

	st := s.Stats()
	count, input, ids := sumCounts(sink.snapshot())
	assert.Equal(t, recorded.Load(), st.Recorded, "Recorded is not the sum of the Counts passed to Record")
	assert.Equal(t, st.Sent, count, "Stats.Sent differs from the Counts the sink accepted")
	assert.Equal(t, count, input, "the tokens the sink accepted differ from their Counts")
	assert.Equal(t, st.Recorded, st.Sent+st.Dropped.Total(), "events neither sent nor dropped after Close: %+v", st)
	assert.Zero(t, st.Failed)
	assert.Zero(t, st.Pending)
	assert.Zero(t, st.Queued)
	for id, n := range ids {
		assert.Equal(t, 1, n, "event %s accepted %d times", id, n)
	}
}

// TestSenderCloseWithCancelledContext closes with a context that is already
// cancelled. The error must count exactly the events that were not sent.
func TestSenderCloseWithCancelledContext(t *testing.T) {
	sink := newAcceptingSink(nil)
	s := usage.NewSender(sink, usage.WithBatchInterval(time.Hour))
	for i := range 50 {
		s.Record(externalEvent(t, fmt.Sprint(i), i%3, "gpt-4o", 1))
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.Close(ctx)
	require.Error(t, err)
	require.ErrorIs(t, err, context.Canceled)

	st := s.Stats()
	assert.Equal(t, int64(50), st.Recorded)
	assert.Equal(t, st.Recorded, st.Sent+st.Dropped.Shutdown)
	assert.Zero(t, st.Pending)
	assert.Contains(t, err.Error(), fmt.Sprintf("%d events lost", st.Dropped.Shutdown))

	count, _, _ := sumCounts(sink.snapshot())
	assert.Equal(t, st.Sent, count)
}

// TestSenderConcurrentCloseSameResult calls Close from several goroutines
// while the sink hangs. Every call must return the result of the first.
func TestSenderConcurrentCloseSameResult(t *testing.T) {
	sink := newAcceptingSink(hangUntilCancelled)
	s := usage.NewSender(sink, usage.WithWorkers(1), usage.WithBatchSize(1))
	for i := range 5 {
		s.Record(externalEvent(t, fmt.Sprint(i), 1, "gpt-4o", 1))
	}
	sink.waitCalled(t)

	errs := make([]error, 4)
	var closers sync.WaitGroup
	for i := range errs {
		closers.Go(func() { errs[i] = closeWithin(t, s, 100*time.Millisecond) })
	}
	closers.Wait()

	final := s.Close(context.Background())
	require.Error(t, final)
	assert.Contains(t, final.Error(), "5 events lost")
	for i, err := range errs {
		assert.Error(t, err, "Close call %d", i)
	}
	assert.Equal(t, int64(5), s.Stats().Dropped.Shutdown)
	assert.Equal(t, final, s.Flush(context.Background()), "Flush after Close returns the result of Close")
}

// TestSenderFlushRacingCloseReportsLoss starts a Flush with no deadline while
// the sink hangs, then closes with a short deadline. Close abandons the
// events that Flush was delivering. Flush must not report success, because
// its doc promises to return when the sink has accepted or rejected them.
func TestSenderFlushRacingCloseReportsLoss(t *testing.T) {
	sink := newAcceptingSink(hangUntilCancelled)
	s := usage.NewSender(sink, usage.WithWorkers(1), usage.WithBatchInterval(time.Hour))
	for i := range 10 {
		s.Record(externalEvent(t, fmt.Sprint(i), 1, "gpt-4o", 1))
	}

	flushed := make(chan error, 1)
	go func() { flushed <- s.Flush(context.Background()) }()
	sink.waitCalled(t)

	closeErr := closeWithin(t, s, 50*time.Millisecond)
	require.Error(t, closeErr)
	assert.Contains(t, closeErr.Error(), "10 events lost")

	var flushErr error
	select {
	case flushErr = <-flushed:
	case <-time.After(5 * time.Second):
		require.FailNow(t, "Flush did not return after Close")
	}
	assert.Equal(t, int64(10), s.Stats().Dropped.Shutdown)
	assert.Empty(t, sink.snapshot())
	assert.Error(t, flushErr, "Flush returned nil although none of its 10 events reached the sink")
}

// TestSenderQueueBytesFoldsOnlyPastBound records one event with a Raw usage
// object into an empty queue whose byte bound is several times the event's
// size. WithQueueBytes promises to fold only events that would pass the
// bound, so the event must be queued and reach the sink with its Raw object.
func TestSenderQueueBytesFoldsOnlyPastBound(t *testing.T) {
	// The Raw object stays below MaxRawBytes, the largest the extractor
	// keeps, and the bound is set well above the event's size on any
	// number of CPUs.
	raw := json.RawMessage(`{"prompt_tokens":1,"pad":"` + strings.Repeat("x", 3000) + `"}`)
	require.Less(t, len(raw), usage.MaxRawBytes)
	queueBytes := int64(4*runtime.GOMAXPROCS(0)) * 2048
	require.Greater(t, queueBytes, int64(4*len(raw)))

	sink := newAcceptingSink(nil)
	s := usage.NewSender(sink, usage.WithQueueBytes(queueBytes), usage.WithBatchInterval(time.Hour))
	e := externalEvent(t, "with-raw", 1, "gpt-4o", 1)
	e.Usage.Raw = raw
	s.Record(e)

	st := s.Stats()
	assert.Zero(t, st.Folded, "an event of %d bytes was folded under a queue bound of %d bytes", len(raw), queueBytes)
	require.NoError(t, closeWithin(t, s, 5*time.Second))

	delivered := sink.snapshot()
	require.Len(t, delivered, 1)
	assert.Equal(t, "with-raw", delivered[0].ID, "the event lost its idempotency key")
	assert.JSONEq(t, string(raw), string(delivered[0].Usage.Raw), "the event lost its Raw usage object")
}

// TestSenderDropsOnlyWhenQueueFull fills part of the queue from several
// goroutines with events of distinct keys while the sink hangs. A shard that
// fills up folds its events, but with room left in the queue no event may be
// dropped.
func TestSenderDropsOnlyWhenQueueFull(t *testing.T) {
	const queueEvents, producers, perProducer = 1024, 32, 31
	sink := newAcceptingSink(hangUntilCancelled)
	s := usage.NewSender(sink, usage.WithQueueEvents(queueEvents), usage.WithMaxFoldKeys(1),
		usage.WithWorkers(1), usage.WithBatchSize(1))

	// The first event reaches the sink, whose Send then hangs, so the
	// worker takes nothing more from the queue.
	s.Record(externalEvent(t, "first", 0, "gpt-4o", 1))
	sink.waitCalled(t)

	var wg sync.WaitGroup
	for g := range producers {
		wg.Go(func() {
			for i := range perProducer {
				s.Record(externalEvent(t, fmt.Sprintf("g%d-%d", g, i), 1+g*perProducer+i, "gpt-4o", 1))
			}
		})
	}
	wg.Wait()

	st := s.Stats()
	t.Logf("queued %d of %d, folded %d, dropped %+v", st.Queued, queueEvents, st.Folded, st.Dropped)
	assert.Zero(t, st.Dropped.Total(), "events dropped with %d of %d queue slots free", queueEvents-st.Queued, queueEvents)
	assert.Equal(t, int64(producers*perProducer), st.Queued+st.Folded)

	err := closeWithin(t, s, 50*time.Millisecond)
	require.Error(t, err)
	st = s.Stats()
	assert.Equal(t, st.Recorded, st.Failed+st.Dropped.Total())
	assert.Zero(t, st.Pending)
}

// TestSenderMillionDistinctKeysBounded records a million events of distinct
// tokens while the sink hangs. Record must return every time without
// starting a goroutine, the heap must stay bounded, and every event that
// found no room must be counted as dropped.
func TestSenderMillionDistinctKeysBounded(t *testing.T) {
	const events = 1_000_000
	sink := newAcceptingSink(hangUntilCancelled)
	// With one worker, the only call of Send is the hung one, so the
	// number of goroutines changes only if Record starts one.
	s := usage.NewSender(sink, usage.WithWorkers(1))
	s.Record(externalEvent(t, "first", 0, "gpt-4o", 1))
	sink.waitCalled(t)

	goroutines := runtime.NumGoroutine()
	heapBefore := liveHeap()
	template := externalEvent(t, "", 0, "gpt-4o", 1)
	for i := range events {
		e := template
		e.ID = fmt.Sprint("e", i)
		e.Credential.Token = fmt.Sprint("user-token-distinct-", i)
		s.Record(e)
	}
	heapGrowth := int64(liveHeap()) - int64(heapBefore)
	assert.Equal(t, goroutines, runtime.NumGoroutine(), "Record changed the number of goroutines")

	// Pending may hold the queue, the workers' partial batches (at most the
	// queue's size again), the fold table, one overflow total per queue
	// shard (at most 4 per CPU) and one batch inside the sink per worker.
	st := s.Stats()
	bound := int64(2*usage.DefaultSenderQueueEvents + usage.DefaultSenderMaxFoldKeys + 4*runtime.GOMAXPROCS(0) +
		usage.DefaultSenderBatchSize)
	t.Logf("heap growth %d bytes, %+v", heapGrowth, st)
	assert.Less(t, heapGrowth, int64(2*usage.DefaultSenderQueueBytes), "heap grew by %d bytes", heapGrowth)
	assert.Equal(t, int64(events+1), st.Recorded)
	assert.LessOrEqual(t, st.Pending, bound)
	assert.Equal(t, st.Recorded, st.Pending+st.Dropped.Total())
	assert.Positive(t, st.Dropped.FoldKeysFull)
	assert.Zero(t, st.Sent)

	err := closeWithin(t, s, 100*time.Millisecond)
	require.Error(t, err)
	st = s.Stats()
	assert.Zero(t, st.Pending)
	assert.Equal(t, st.Recorded, st.Failed+st.Dropped.Total())
	assert.Contains(t, err.Error(), fmt.Sprintf("%d events lost", st.Failed+st.Dropped.Shutdown))
}

// liveHeap returns the bytes of live heap objects after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestSenderOddCountsTakenAsOne records a zero Event and events with Count 0
// and -5. Each must be delivered as one event, by every sink of the package,
// without a panic.
func TestSenderOddCountsTakenAsOne(t *testing.T) {
	collector := newBatchCollector(t, nil)
	jsonSink, err := usage.NewJSONSink(collector.URL, usage.WithJSONHTTPClient(collector.Client()))
	require.NoError(t, err)
	var beacons atomic.Int64
	workspace := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		beacons.Add(1)
		_, _ = io.WriteString(w, `{"endpoints":[]}`)
	}))
	defer workspace.Close()

	sinks := map[string]usage.Sink{
		"accepting": newAcceptingSink(nil),
		"json":      jsonSink,
		"slog":      usage.NewSlogSink(slog.New(slog.NewJSONHandler(io.Discard, nil))),
		"beacon":    usage.NewBeaconSink(usage.WithBeaconHTTPClient(workspace.Client())),
	}
	for name, sink := range sinks {
		t.Run(name, func(t *testing.T) {
			s := usage.NewSender(sink)
			zeroCount := externalEvent(t, "zero-count", 1, "gpt-4o", 1)
			zeroCount.Count = 0
			zeroCount.Credential.Host = workspace.URL
			negative := externalEvent(t, "negative-count", 1, "gpt-4o", 1)
			negative.Count = -5
			negative.Credential.Host = workspace.URL

			assert.NotPanics(t, func() {
				s.Record(usage.Event{})
				s.Record(zeroCount)
				s.Record(negative)
			})
			require.NoError(t, closeWithin(t, s, 5*time.Second))

			st := s.Stats()
			assert.Equal(t, int64(3), st.Recorded)
			assert.Equal(t, int64(3), st.Sent)
		})
	}

	counts := 0
	for _, body := range collector.bodies() {
		var batch struct {
			Events []struct {
				Count int `json:"count"`
			} `json:"events"`
		}
		require.NoError(t, json.Unmarshal(body, &batch))
		for _, e := range batch.Events {
			assert.Equal(t, 1, e.Count)
			counts++
		}
	}
	assert.Equal(t, 3, counts)
	assert.Equal(t, int64(2), beacons.Load(), "the beacon skips only the zero Event, which has no usage")
}

// batchCollector is a loopback JSON collector. It stores the body and the
// Idempotency-Key of every request it accepts. A non-nil respond runs first
// with the request number and, when it returns true, has written the
// response.
type batchCollector struct {
	*httptest.Server
	mu       sync.Mutex
	requests int
	accepted [][]byte
	keys     []string
}

func newBatchCollector(t *testing.T, respond func(w http.ResponseWriter, request int) bool) *batchCollector {
	c := &batchCollector{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		assert.NoError(t, err)

		c.mu.Lock()
		request := c.requests
		c.requests++
		c.mu.Unlock()
		if respond != nil && respond(w, request) {
			return
		}

		c.mu.Lock()
		c.accepted = append(c.accepted, body)
		c.keys = append(c.keys, r.Header.Get("Idempotency-Key"))
		c.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(c.Close)
	return c
}

func (c *batchCollector) bodies() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([][]byte(nil), c.accepted...)
}

func (c *batchCollector) idempotencyKeys() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.keys...)
}

// TestSenderJSONKeysDistinctWithoutIDs records two events without an ID for
// two users, so the Sender sends two batches. A collector that discards a
// batch whose Idempotency-Key it has stored would discard the second one, so
// the keys must differ.
func TestSenderJSONKeysDistinctWithoutIDs(t *testing.T) {
	collector := newBatchCollector(t, nil)
	sink, err := usage.NewJSONSink(collector.URL, usage.WithJSONHTTPClient(collector.Client()))
	require.NoError(t, err)
	s := usage.NewSender(sink, usage.WithWorkers(1))

	s.Record(externalEvent(t, "", 1, "gpt-4o", 10))
	s.Record(externalEvent(t, "", 2, "gpt-4o", 20))
	require.NoError(t, closeWithin(t, s, 5*time.Second))

	keys := collector.idempotencyKeys()
	require.Len(t, keys, 2)
	assert.NotEqual(t, keys[0], keys[1], "two different batches share the Idempotency-Key %s", keys[0])
}

// TestSenderBatchTimeoutBoundsHungCollector points the JSON sink at a
// collector that never responds. The batch deadline, not the number of
// attempts, must end the delivery, and the events count as failed.
func TestSenderBatchTimeoutBoundsHungCollector(t *testing.T) {
	release := make(chan struct{})
	collector := newBatchCollector(t, func(w http.ResponseWriter, _ int) bool {
		<-release
		return true
	})
	t.Cleanup(func() { close(release) })
	sink, err := usage.NewJSONSink(collector.URL, usage.WithJSONHTTPClient(collector.Client()))
	require.NoError(t, err)
	s := usage.NewSender(sink, usage.WithWorkers(1), usage.WithBatchTimeout(200*time.Millisecond),
		usage.WithRetry(1000, time.Millisecond, time.Millisecond))

	for i := range 3 {
		s.Record(externalEvent(t, fmt.Sprint(i), 1, "gpt-4o", 1))
	}
	start := time.Now()
	require.NoError(t, s.Flush(context.Background()))
	elapsed := time.Since(start)

	st := s.Stats()
	assert.Equal(t, int64(3), st.Failed)
	assert.Zero(t, st.Pending)
	assert.GreaterOrEqual(t, elapsed, 200*time.Millisecond)
	assert.Less(t, elapsed, 2*time.Second)

	err = closeWithin(t, s, 5*time.Second)
	assert.NoError(t, err, "the events failed before Close, so Close lost none")
}

// TestSenderBeaconRetryAfterForms responds to the first beacon with 429 and
// a Retry-After in each form a server may send. The Sender must wait no longer
// than its maximum backoff and then deliver the event.
func TestSenderBeaconRetryAfterForms(t *testing.T) {
	const maxBackoff = 100 * time.Millisecond
	cases := map[string]string{
		"huge seconds":        "99999999999",
		"negative seconds":    "-5",
		"http date ahead":     time.Now().Add(time.Hour).UTC().Format(http.TimeFormat),
		"http date in past":   time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat),
		"not a number":        "soon",
		"fractional seconds":  "1.5",
		"seconds with spaces": " 2 ",
	}
	for name, retryAfter := range cases {
		t.Run(name, func(t *testing.T) {
			var mu sync.Mutex
			var times []time.Time
			var authorization []string
			server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				times = append(times, time.Now())
				authorization = append(authorization, r.Header.Get("Authorization"))
				first := len(times) == 1
				mu.Unlock()
				if first {
					w.Header().Set("Retry-After", retryAfter)
					w.WriteHeader(http.StatusTooManyRequests)
					return
				}
				_, _ = io.WriteString(w, `{"endpoints":[]}`)
			}))
			defer server.Close()

			beacon := usage.NewBeaconSink(usage.WithBeaconHTTPClient(server.Client()))
			s := usage.NewSender(beacon, usage.WithRetry(3, time.Millisecond, maxBackoff))
			e := externalEvent(t, "a", 1, "gpt-4o", 1)
			e.Credential.Host = server.URL
			s.Record(e)
			require.NoError(t, closeWithin(t, s, 5*time.Second))

			mu.Lock()
			defer mu.Unlock()
			require.Len(t, times, 2)
			assert.Less(t, times[1].Sub(times[0]), maxBackoff+500*time.Millisecond)
			assert.Equal(t, []string{"Bearer user-token-1", "Bearer user-token-1"}, authorization)
			assert.Equal(t, int64(1), s.Stats().Sent)
		})
	}
}

// TestJSONSinkIgnoresRedirect responds with a redirect to a second
// loopback server. The default client must not follow it, so the collector's
// own Authorization header never reaches the second server.
func TestJSONSinkIgnoresRedirect(t *testing.T) {
	var followed atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		followed.Add(1)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer target.Close()
	redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/stolen", http.StatusTemporaryRedirect)
	}))
	defer redirecting.Close()

	sink, err := usage.NewJSONSink(redirecting.URL, usage.WithJSONHeader("Authorization", "Bearer collector-secret"))
	require.NoError(t, err)
	defer sink.CloseIdleConnections()

	err = sink.Send(context.Background(), []usage.Event{externalEvent(t, "a", 1, "gpt-4o", 1)})
	require.Error(t, err)
	assert.True(t, usage.IsPermanent(err), "a redirect is not retryable: %v", err)
	assert.Zero(t, followed.Load(), "the JSON sink followed a redirect")
}

// TestSenderLogsNoToken lets sinks fail in ways that carry the batch's
// token, and checks the Sender's log records, the Close error and the expvar
// output. WithSenderLogger promises records that never carry a token.
func TestSenderLogsNoToken(t *testing.T) {
	cases := map[string]func(ctx context.Context, call int, events []usage.Event) error{
		"error names the request header": func(_ context.Context, _ int, events []usage.Event) error {
			return fmt.Errorf("collector rejected request with Authorization: Bearer %s", events[0].Credential.Token)
		},
		"panic with the batch": func(_ context.Context, _ int, events []usage.Event) error {
			panic(events)
		},
		"retryable error then success": func(_ context.Context, call int, events []usage.Event) error {
			if call == 0 {
				return fmt.Errorf("upstream 503 for token %s", events[0].Credential.Token)
			}
			return nil
		},
	}
	for name, respond := range cases {
		t.Run(name, func(t *testing.T) {
			var logs syncBuffer
			logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			s := usage.NewSender(newAcceptingSink(respond), usage.WithSenderLogger(logger),
				usage.WithRetry(2, time.Millisecond, time.Millisecond))
			s.Record(externalEvent(t, "a", 1, "gpt-4o", 1))
			closeErr := closeWithin(t, s, 5*time.Second)
			s.Record(externalEvent(t, "late", 1, "gpt-4o", 1))

			text := logs.String()
			require.NotEmpty(t, text, "the Sender logged nothing")
			assert.NotContains(t, text, "user-token-1", "a log record carries the token")
			if closeErr != nil {
				assert.NotContains(t, closeErr.Error(), "user-token-1")
			}
			assert.NotContains(t, s.Var().String(), "user-token-1")
		})
	}
}

// TestSenderFlushUnderLoadDeliversEarlier records a marked user's events and
// calls Flush while other goroutines keep recording and the small queue
// folds. Flush promises to deliver every event queued or folded before the
// call, so every token of the marked user must have reached the sink when
// Flush returns.
func TestSenderFlushUnderLoadDeliversEarlier(t *testing.T) {
	const marked = 999
	sink := newAcceptingSink(func(context.Context, int, []usage.Event) error {
		time.Sleep(100 * time.Microsecond)
		return nil
	})
	s := usage.NewSender(sink, usage.WithWorkers(2), usage.WithQueueEvents(16), usage.WithBatchSize(4),
		usage.WithBatchInterval(time.Hour))

	stop := make(chan struct{})
	var producers sync.WaitGroup
	for g := range 4 {
		producers.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				s.Record(externalEvent(t, fmt.Sprintf("g%d-%d", g, i), g, fmt.Sprint("model-", i%3), 1))
			}
		})
	}

	var want int64
	for i := range 500 {
		count := 1 + i%4
		s.Record(externalEvent(t, fmt.Sprint("marked-", i), marked, fmt.Sprint("model-", i%5), count))
		want += int64(count)
	}
	err := s.Flush(context.Background())
	delivered := sink.snapshot()
	close(stop)
	producers.Wait()
	require.NoError(t, err)

	var got int64
	for _, e := range delivered {
		if e.Credential.Token == fmt.Sprint("user-token-", marked) {
			got += e.Usage.InputTokens
		}
	}
	assert.Equal(t, want, got, "tokens of events recorded before Flush were still undelivered when it returned")
	assert.Positive(t, s.Stats().Folded, "the queue never filled, so folding went untested")
	require.NoError(t, closeWithin(t, s, 10*time.Second))
}

// TestSenderSinkGoexitCountsLoss uses a sink that ends its goroutine with
// runtime.Goexit, as t.FailNow or a helper built on it does. The Sender
// recovers panics of a sink, but Goexit is not a panic, so the worker exits
// and the events behind it are never delivered. Close must then report them
// as lost rather than return nil.
func TestSenderSinkGoexitCountsLoss(t *testing.T) {
	sink := newAcceptingSink(func(context.Context, int, []usage.Event) error {
		runtime.Goexit()
		return nil
	})
	s := usage.NewSender(sink, usage.WithWorkers(1), usage.WithBatchSize(1))
	s.Record(externalEvent(t, "first", 1, "gpt-4o", 1))
	sink.waitCalled(t)
	for i := range 5 {
		s.Record(externalEvent(t, fmt.Sprint(i), 1, "gpt-4o", 1))
	}

	err := closeWithin(t, s, 2*time.Second)
	st := s.Stats()
	t.Logf("Close returned %v with %+v", err, st)
	assert.Zero(t, st.Pending, "events stay pending after Close")
	assert.Equal(t, st.Recorded, st.Sent+st.Failed+st.Dropped.Total())
	assert.Error(t, err, "Close returned nil although no event reached the sink")
}

// TestSenderFoldedCountSaturates records events whose Counts sum past the
// largest int while the queue is full. Usage sums saturate instead of
// wrapping around, and the folded Count should not turn negative either.
func TestSenderFoldedCountSaturates(t *testing.T) {
	const huge = int(^uint(0)>>1)/2 + 1
	sink := newAcceptingSink(nil)
	release := make(chan struct{})
	blocking := newAcceptingSink(func(ctx context.Context, _ int, events []usage.Event) error {
		select {
		case <-release:
		case <-ctx.Done():
			return ctx.Err()
		}
		return sink.Send(ctx, events)
	})
	s := usage.NewSender(blocking, usage.WithWorkers(1), usage.WithQueueEvents(1), usage.WithBatchSize(1))
	s.Record(externalEvent(t, "first", 1, "gpt-4o", 1))
	blocking.waitCalled(t)

	for i := range 3 {
		e := externalEvent(t, fmt.Sprint(i), 1, "gpt-4o", 1)
		e.Count = huge
		assert.NotPanics(t, func() { s.Record(e) })
	}
	close(release)
	require.NoError(t, closeWithin(t, s, 5*time.Second))

	for _, e := range sink.snapshot() {
		assert.Positive(t, e.Count, "event %s reached the sink with Count %d", e.ID, e.Count)
	}
	st := s.Stats()
	assert.Positive(t, st.Recorded, "Stats.Recorded wrapped around: %+v", st)
	assert.Positive(t, st.Sent, "Stats.Sent wrapped around: %+v", st)
}

// TestSenderCloseDeadlineCountsExactLoss closes with a short deadline while a
// slow sink that honours its context has delivered part of the backlog. The
// number of events lost in the error must be exactly the events recorded
// before Close that were not sent.
func TestSenderCloseDeadlineCountsExactLoss(t *testing.T) {
	sink := newAcceptingSink(func(ctx context.Context, _ int, _ []usage.Event) error {
		select {
		case <-time.After(5 * time.Millisecond):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	s := usage.NewSender(sink, usage.WithWorkers(2), usage.WithBatchSize(10), usage.WithQueueEvents(256),
		usage.WithBatchInterval(time.Millisecond))
	for i := range 2000 {
		s.Record(externalEvent(t, fmt.Sprint(i), i%20, fmt.Sprint("model-", i%3), 1))
	}

	err := closeWithin(t, s, 30*time.Millisecond)
	require.Error(t, err)

	st := s.Stats()
	count, _, _ := sumCounts(sink.snapshot())
	t.Logf("Close returned %v with %+v", err, st)
	assert.Positive(t, st.Sent, "the sink delivered nothing before the deadline, so partial loss went untested")
	assert.Equal(t, st.Sent, count)
	assert.Zero(t, st.Pending)
	assert.Equal(t, int64(2000), st.Sent+st.Failed+st.Dropped.Total())
	assert.Contains(t, err.Error(), fmt.Sprintf("%d events lost", 2000-st.Sent-st.Dropped.FoldKeysFull))
}

// TestSenderStatsPendingNeverNegative reads Stats while producers record into
// a healthy sink. Pending is the number of accepted events not yet sent,
// failed or dropped, which cannot be below zero.
func TestSenderStatsPendingNeverNegative(t *testing.T) {
	s := usage.NewSender(newAcceptingSink(nil), usage.WithBatchSize(1), usage.WithBatchInterval(time.Millisecond))
	stop := make(chan struct{})
	var producers sync.WaitGroup
	for g := range 4 {
		producers.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				s.Record(externalEvent(t, fmt.Sprint(g, "-", i), g, "gpt-4o", 1))
			}
		})
	}

	var lowest, oversent usage.Stats
	for range 20000 {
		st := s.Stats()
		if st.Pending < lowest.Pending {
			lowest = st
		}
		if st.Sent-st.Recorded > oversent.Sent-oversent.Recorded {
			oversent = st
		}
	}
	close(stop)
	producers.Wait()
	require.NoError(t, closeWithin(t, s, 10*time.Second))

	assert.GreaterOrEqual(t, lowest.Pending, int64(0), "a snapshot reported negative Pending: %+v", lowest)
	assert.LessOrEqual(t, oversent.Sent, oversent.Recorded, "a snapshot reported more events sent than recorded: %+v", oversent)
}

// TestSenderHugeRawNotRetained records events with a 10 MiB Raw usage object,
// larger than the default byte bound, while the sink is held. The Sender must
// fold them without keeping the Raw objects alive, and deliver their exact
// token sums once the sink is released.
func TestSenderHugeRawNotRetained(t *testing.T) {
	const events, rawBytes = 10, 10 << 20
	release := make(chan struct{})
	sink := newAcceptingSink(func(ctx context.Context, _ int, _ []usage.Event) error {
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	s := usage.NewSender(sink, usage.WithWorkers(1))

	heapBefore := liveHeap()
	for i := range events {
		e := externalEvent(t, fmt.Sprint("huge-", i), 1, "gpt-4o", 7)
		e.Usage.Raw = make(json.RawMessage, rawBytes)
		s.Record(e)
	}
	heapGrowth := int64(liveHeap()) - int64(heapBefore)

	st := s.Stats()
	assert.Less(t, heapGrowth, int64(rawBytes), "the Sender keeps %d bytes of Raw objects alive", heapGrowth)
	assert.Equal(t, int64(events*7), st.Folded)
	assert.Zero(t, st.Dropped.Total())

	close(release)
	require.NoError(t, closeWithin(t, s, 5*time.Second))
	count, input, _ := sumCounts(sink.snapshot())
	assert.Equal(t, int64(events*7), count)
	assert.Equal(t, int64(events*7), input)
	for _, e := range sink.snapshot() {
		assert.Nil(t, e.Usage.Raw, "a folded total carries a Raw object")
	}
}
