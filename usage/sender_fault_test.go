package usage

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recordRun is what recordLoad measured while it recorded events.
type recordRun struct {
	p99    time.Duration
	total  Usage
	events int64
}

// recordLoad records perWorker events from each of workers goroutines,
// spread over four users and two models, and measures the latency of every
// Record call. When pace is not zero, each goroutine sleeps for pace after
// every burst events.
func recordLoad(t *testing.T, s *Sender, workspace string, workers, perWorker, burst int, pace time.Duration) recordRun {
	t.Helper()
	latencies := make([][]time.Duration, workers)
	totals := make([]Usage, workers)

	var templates []Event
	for user := range 4 {
		for _, model := range []string{"gpt-4o", "meta/llama 3"} {
			e := testEvent(t, "", user, model, 0, 0)
			e.Credential.Host = workspace
			templates = append(templates, e)
		}
	}

	var wg sync.WaitGroup
	for w := range workers {
		latencies[w] = make([]time.Duration, 0, perWorker)
		wg.Go(func() {
			for i := range perWorker {
				e := templates[(w+i)%len(templates)]
				e.ID = "w" + strconv.Itoa(w) + "-" + strconv.Itoa(i)
				e.Usage = Usage{InputTokens: int64(1 + i%7), OutputTokens: int64(1 + i%3)}
				totals[w] = totals[w].Add(e.Usage)

				start := time.Now()
				s.Record(e)
				latencies[w] = append(latencies[w], time.Since(start))

				if pace > 0 && i%burst == burst-1 {
					time.Sleep(pace)
				}
			}
		})
	}
	wg.Wait()

	run := recordRun{events: int64(workers * perWorker)}
	var all []time.Duration
	for w := range workers {
		all = append(all, latencies[w]...)
		run.total = run.total.Add(totals[w])
	}
	slices.Sort(all)
	run.p99 = all[len(all)*99/100]
	return run
}

// deliveredUsage sums the token counts that reached a fake workspace.
func deliveredUsage(fw *fakeWorkspace) (input, output int64) {
	for _, r := range fw.seen() {
		input += r.UserAgent.InputTokens
		output += r.UserAgent.OutputTokens
	}
	return input, output
}

// discardSink accepts every batch at once.
type discardSink struct{}

func (discardSink) Send(context.Context, []Event) error { return nil }

// healthyRecordP99 measures the p99 latency of Record with a sink that
// accepts everything at once, the baseline the fault tests compare against.
func healthyRecordP99(t *testing.T) time.Duration {
	t.Helper()
	s := NewSender(discardSink{})
	run := recordLoad(t, s, "https://workspace.example.com", 4, 20000, 1, 0)
	closeSender(t, s)
	return run.p99
}

// logRecordLatency logs the p99 latency of Record with a healthy and a
// faulty sink. Tests only log it, because wall-clock limits fail on a busy
// machine; BenchmarkRequestPath holds the latency target.
func logRecordLatency(t *testing.T, healthy, faulty time.Duration) {
	t.Helper()
	t.Logf("Record p99: healthy sink %v, faulty sink %v", healthy, faulty)
}

// heapInUse returns the live heap after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func TestSenderSinkDown(t *testing.T) {
	healthy := healthyRecordP99(t)

	down := httptest.NewServer(http.NotFoundHandler())
	workspace := down.URL
	down.Close()

	beacon := NewBeaconSink()
	defer beacon.CloseIdleConnections()
	s := NewSender(beacon, WithQueueEvents(1024), WithRetry(100, time.Millisecond, 10*time.Millisecond))

	heapBefore := heapInUse()
	run := recordLoad(t, s, workspace, 4, 50000, 1, 0)
	heapGrowth := int64(heapInUse()) - int64(heapBefore)

	logRecordLatency(t, healthy, run.p99)
	st := s.Stats()
	assert.LessOrEqual(t, st.Queued, int64(1024))
	assert.LessOrEqual(t, s.fold.size.Load(), int64(DefaultSenderMaxFoldKeys))
	assert.Positive(t, st.Folded)
	assert.Less(t, heapGrowth, int64(16<<20), "heap grew by %d bytes for %d events", heapGrowth, run.events)

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err := s.Close(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "events lost")

	st = s.Stats()
	assert.Equal(t, run.events, st.Recorded)
	assert.Zero(t, st.Sent)
	assert.Zero(t, st.Pending)
	assert.Equal(t, st.Recorded, st.Failed+st.Dropped.Total())
	assert.Zero(t, st.Dropped.FoldKeysFull)
}

func TestSenderSinkHanging(t *testing.T) {
	healthy := healthyRecordP99(t)

	release := make(chan struct{})
	workspace := newFakeWorkspace(t, func(w http.ResponseWriter, r *http.Request) bool {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		return true
	})
	t.Cleanup(func() { close(release) })

	s := NewSender(NewBeaconSink(WithBeaconHTTPClient(workspace.Client())), WithQueueEvents(1024))

	heapBefore := heapInUse()
	run := recordLoad(t, s, workspace.URL, 4, 50000, 1, 0)
	heapGrowth := int64(heapInUse()) - int64(heapBefore)

	logRecordLatency(t, healthy, run.p99)
	assert.LessOrEqual(t, s.Stats().Queued, int64(1024))
	assert.Less(t, heapGrowth, int64(16<<20), "heap grew by %d bytes for %d events", heapGrowth, run.events)

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := s.Close(ctx)
	assert.Less(t, time.Since(start), time.Second+shutdownGrace)

	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "events lost")

	st := s.Stats()
	assert.Zero(t, st.Sent)
	assert.Zero(t, st.Pending)
	assert.Equal(t, run.events, st.Failed+st.Dropped.Total())
}

func TestSenderSinkServerErrorThenRecovers(t *testing.T) {
	healthy := healthyRecordP99(t)

	var requests atomic.Int64
	workspace := newFakeWorkspace(t, func(w http.ResponseWriter, r *http.Request) bool {
		if requests.Add(1) <= 50 {
			w.WriteHeader(http.StatusInternalServerError)
			return true
		}
		return false
	})
	s := NewSender(NewBeaconSink(WithBeaconHTTPClient(workspace.Client())),
		WithQueueEvents(256), WithRetry(100, time.Millisecond, 5*time.Millisecond))

	run := recordLoad(t, s, workspace.URL, 4, 5000, 1, 0)
	logRecordLatency(t, healthy, run.p99)
	closeSender(t, s)

	input, output := deliveredUsage(workspace)
	assert.Equal(t, run.total.InputTokens, input)
	assert.Equal(t, run.total.OutputTokens, output)

	st := s.Stats()
	assert.Positive(t, st.Retried)
	assert.Equal(t, run.events, st.Sent)
	assert.Zero(t, st.Failed)
	assert.Zero(t, st.Dropped.Total())
}

func TestSenderSinkServerErrorForever(t *testing.T) {
	healthy := healthyRecordP99(t)

	workspace := newFakeWorkspace(t, func(w http.ResponseWriter, r *http.Request) bool {
		w.WriteHeader(http.StatusBadGateway)
		return true
	})
	s := NewSender(NewBeaconSink(WithBeaconHTTPClient(workspace.Client())),
		WithQueueEvents(256), WithRetry(3, time.Millisecond, 2*time.Millisecond))

	run := recordLoad(t, s, workspace.URL, 2, 2000, 1, 0)
	logRecordLatency(t, healthy, run.p99)
	err := s.Close(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the sink rejected them")

	st := s.Stats()
	assert.Zero(t, st.Sent)
	assert.Zero(t, st.Pending)
	assert.Equal(t, run.events, st.Failed+st.Dropped.Total())
	assert.Positive(t, st.Retried)
}

func TestSenderSinkRateLimited(t *testing.T) {
	healthy := healthyRecordP99(t)

	var requests atomic.Int64
	var mu sync.Mutex
	var limitedAt, resumedAt time.Time
	workspace := newFakeWorkspace(t, func(w http.ResponseWriter, r *http.Request) bool {
		n := requests.Add(1)
		mu.Lock()
		defer mu.Unlock()
		if n == 1 {
			limitedAt = time.Now()
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return true
		}
		if resumedAt.IsZero() {
			resumedAt = time.Now()
		}
		return false
	})
	s := NewSender(NewBeaconSink(WithBeaconHTTPClient(workspace.Client())),
		WithWorkers(1), WithQueueEvents(64), WithRetry(5, time.Millisecond, 300*time.Millisecond))

	run := recordLoad(t, s, workspace.URL, 2, 2000, 1, 0)
	logRecordLatency(t, healthy, run.p99)
	closeSender(t, s)

	input, output := deliveredUsage(workspace)
	assert.Equal(t, run.total.InputTokens, input)
	assert.Equal(t, run.total.OutputTokens, output)

	mu.Lock()
	wait := resumedAt.Sub(limitedAt)
	mu.Unlock()
	assert.GreaterOrEqual(t, wait, 300*time.Millisecond, "Retry-After clamped to the max backoff was not honoured")
	assert.Less(t, wait, time.Second, "Retry-After was not clamped to the max backoff")
	assert.Equal(t, run.events, s.Stats().Sent)
}

func TestSenderSinkSlowUnderTenfoldLoad(t *testing.T) {
	const perRequest = 10 * time.Millisecond
	workspace := newFakeWorkspace(t, func(w http.ResponseWriter, r *http.Request) bool {
		time.Sleep(perRequest)
		return false
	})
	const workers = 2
	s := NewSender(NewBeaconSink(WithBeaconHTTPClient(workspace.Client())),
		WithWorkers(workers), WithQueueEvents(256), WithBatchInterval(10*time.Millisecond))

	// The sink sustains about workers/perRequest = 200 beacons per second.
	// Four goroutines recording bursts of ten events a millisecond apart
	// offer over ten times that even when the sleeps overshoot, which the
	// test checks.
	var maxQueued atomic.Int64
	stopSampling := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Go(func() {
		for {
			select {
			case <-stopSampling:
				return
			case <-time.After(5 * time.Millisecond):
				if q := s.Stats().Queued; q > maxQueued.Load() {
					maxQueued.Store(q)
				}
			}
		}
	})

	heapBefore := heapInUse()
	start := time.Now()
	run := recordLoad(t, s, workspace.URL, 4, 2500, 10, time.Millisecond)
	elapsed := time.Since(start)
	heapGrowth := int64(heapInUse()) - int64(heapBefore)
	assert.Less(t, heapGrowth, int64(16<<20), "heap grew by %d bytes for %d events", heapGrowth, run.events)
	close(stopSampling)
	sampler.Wait()
	closeSender(t, s)

	offered := float64(run.events) / elapsed.Seconds()
	sustainable := workers / perRequest.Seconds()
	t.Logf("offered %.0f events/s against a sink of about %.0f beacons/s, Record p99 %v", offered, sustainable, run.p99)
	require.GreaterOrEqual(t, offered, 10*sustainable)

	input, output := deliveredUsage(workspace)
	assert.Equal(t, run.total.InputTokens, input)
	assert.Equal(t, run.total.OutputTokens, output)

	st := s.Stats()
	assert.Positive(t, st.Folded)
	assert.Equal(t, run.events, st.Sent)
	assert.Zero(t, st.Dropped.Total())
	assert.LessOrEqual(t, maxQueued.Load(), int64(256))
	assert.Less(t, len(workspace.seen()), int(run.events)/2, "folding did not reduce the requests")
}
