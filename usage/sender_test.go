package usage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSenderDeliversEveryEventOnce(t *testing.T) {
	sink := &recordingSink{}
	s := NewSender(sink, WithBatchSize(7), WithWorkers(3))

	const users, perUser = 10, 100
	var wg sync.WaitGroup
	for u := range users {
		wg.Go(func() {
			for i := range perUser {
				s.Record(testEvent(t, fmt.Sprintf("u%d-%d", u, i), u, "gpt-4o", 10, 1))
			}
		})
	}
	wg.Wait()
	closeSender(t, s)

	seen := map[string]int{}
	for _, e := range sink.delivered() {
		seen[e.ID]++
	}
	assert.Len(t, seen, users*perUser)
	for id, n := range seen {
		assert.Equal(t, 1, n, "event %s delivered %d times", id, n)
	}

	st := s.Stats()
	assert.Equal(t, int64(users*perUser), st.Recorded)
	assert.Equal(t, int64(users*perUser), st.Sent)
	assert.Zero(t, st.Pending)
	assert.Zero(t, st.Queued)
}

func TestSenderBatchNeverMixesCredentials(t *testing.T) {
	sink := &recordingSink{}
	s := NewSender(sink, WithBatchSize(5), WithWorkers(1))
	for i := range 200 {
		s.Record(testEvent(t, fmt.Sprint(i), i%7, "gpt-4o", 1, 1))
	}
	closeSender(t, s)

	batches := sink.batchesCopy()
	require.NotEmpty(t, batches)
	for _, b := range batches {
		assert.LessOrEqual(t, len(b), 5)
		for _, e := range b {
			assert.Equal(t, b[0].Credential.Token, e.Credential.Token)
		}
	}
}

func TestSenderSendsPartialBatchAfterInterval(t *testing.T) {
	sink := &recordingSink{}
	s := NewSender(sink, WithBatchSize(100), WithBatchInterval(20*time.Millisecond))
	defer closeSender(t, s)

	s.Record(testEvent(t, "a", 1, "m", 1, 1))
	s.Record(testEvent(t, "b", 1, "m", 1, 1))
	require.Eventually(t, func() bool { return len(sink.delivered()) == 2 }, 2*time.Second, 5*time.Millisecond)
}

func TestSenderSendsFullBatchWithoutWaiting(t *testing.T) {
	sink := &recordingSink{}
	s := NewSender(sink, WithBatchSize(4), WithBatchInterval(time.Hour), WithQueueEvents(64), WithWorkers(1))
	defer closeSender(t, s)

	for i := range 4 {
		s.Record(testEvent(t, fmt.Sprint(i), 1, "m", 1, 1))
	}
	require.Eventually(t, func() bool { return len(sink.delivered()) == 4 }, 2*time.Second, 5*time.Millisecond)
}

// blockingSink returns a sink that blocks every Send until release is closed.
func blockingSink(release chan struct{}) *recordingSink {
	return &recordingSink{fail: func(ctx context.Context, _ int, _ []Event) error {
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}}
}

func TestSenderFoldsWhenQueueFull(t *testing.T) {
	release := make(chan struct{})
	sink := blockingSink(release)
	s := NewSender(sink, WithQueueEvents(8), WithBatchSize(2), WithWorkers(1))

	var want Usage
	models := []string{"gpt-4o", "claude/sonnet"}
	for i := range 1000 {
		e := testEvent(t, fmt.Sprint(i), i%3, models[i%2], int64(i), int64(2*i))
		want = want.Add(e.Usage)
		s.Record(e)
	}
	close(release)
	closeSender(t, s)

	got, count := sumUsage(sink.delivered())
	assert.Equal(t, want, got)
	assert.Equal(t, 1000, count)

	st := s.Stats()
	assert.Positive(t, st.Folded)
	assert.Zero(t, st.Dropped.Total())
	assert.Equal(t, int64(1000), st.Sent)

	for _, e := range sink.delivered() {
		if e.Count > 1 {
			assert.True(t, strings.HasPrefix(e.ID, "fold-"), "folded total has ID %q", e.ID)
			assert.Nil(t, e.Usage.Raw)
		}
	}
}

func TestSenderFoldedTotalKeepsOneCredential(t *testing.T) {
	release := make(chan struct{})
	sink := blockingSink(release)
	s := NewSender(sink, WithQueueEvents(1), WithBatchSize(1), WithWorkers(1))

	for i := range 300 {
		s.Record(testEvent(t, fmt.Sprint(i), i%5, "gpt-4o", 1, 1))
	}
	close(release)
	closeSender(t, s)

	perToken := map[string]int{}
	for _, e := range sink.delivered() {
		perToken[e.Credential.Token] += e.Count
		assert.Equal(t, e.Credential.Subject, strings.Replace(e.Credential.Token, "token-", "user-", 1)+"@example.com")
	}
	for u := range 5 {
		assert.Equal(t, 60, perToken[fmt.Sprintf("token-%d", u)])
	}
}

func TestSenderDropsWhenFoldKeysFull(t *testing.T) {
	release := make(chan struct{})
	sink := blockingSink(release)
	s := NewSender(sink, WithQueueEvents(1), WithMaxFoldKeys(2), WithWorkers(1), WithBatchSize(1))

	// The first event reaches the sink, whose Send then blocks, so the
	// worker takes nothing more and the queue and fold table fill up.
	s.Record(testEvent(t, "0", 1, "model-0", 1, 1))
	sink.waitForCalls(t, 1)
	for i := 1; i < 50; i++ {
		s.Record(testEvent(t, fmt.Sprint(i), 1, fmt.Sprintf("model-%d", i), 1, 1))
	}
	st := s.Stats()
	assert.Positive(t, st.Dropped.FoldKeysFull)
	assert.Equal(t, st.Recorded, st.Sent+st.Failed+st.Dropped.Total()+st.Pending)

	close(release)
	closeSender(t, s)

	st = s.Stats()
	assert.Equal(t, int64(50), st.Sent+st.Dropped.FoldKeysFull)
	assert.Zero(t, st.Pending)
}

func TestSenderFoldsEventLargerThanByteBound(t *testing.T) {
	release := make(chan struct{})
	sink := blockingSink(release)
	s := NewSender(sink, WithQueueBytes(1024), WithWorkers(1))

	e := testEvent(t, "big", 1, "m", 5, 5)
	e.Warnings = []string{strings.Repeat("w", 4096)}
	s.Record(e)

	assert.Equal(t, int64(1), s.Stats().Folded)
	assert.Zero(t, s.Stats().Queued)

	close(release)
	closeSender(t, s)
	delivered := sink.delivered()
	require.Len(t, delivered, 1)
	assert.Nil(t, delivered[0].Warnings)
	assert.Equal(t, int64(5), delivered[0].Usage.InputTokens)
}

func TestSenderRecordAfterCloseCountsDrop(t *testing.T) {
	sink := &recordingSink{}
	s := NewSender(sink)
	closeSender(t, s)

	assert.NotPanics(t, func() { s.Record(testEvent(t, "late", 1, "m", 1, 1)) })
	assert.Equal(t, int64(1), s.Stats().Dropped.Closed)
	assert.Empty(t, sink.delivered())
}

func TestSenderCloseIsIdempotent(t *testing.T) {
	s := NewSender(&recordingSink{})
	s.Record(testEvent(t, "a", 1, "m", 1, 1))
	closeSender(t, s)
	closeSender(t, s)
	require.NoError(t, s.Flush(context.Background()))
}

func TestSenderNilSinkCountsDrop(t *testing.T) {
	s := NewSender(nil)
	s.Record(testEvent(t, "a", 1, "m", 1, 1))
	assert.Equal(t, int64(1), s.Stats().Dropped.NoSink)
	closeSender(t, s)
}

func TestSenderRetryKeepsEventIDs(t *testing.T) {
	sink := &recordingSink{fail: func(_ context.Context, call int, _ []Event) error {
		if call < 2 {
			return errors.New("sink unavailable")
		}
		return nil
	}}
	s := NewSender(sink, WithRetry(5, time.Millisecond, 5*time.Millisecond), WithWorkers(1))
	s.Record(testEvent(t, "a", 1, "m", 1, 1))
	s.Record(testEvent(t, "b", 1, "m", 1, 1))
	closeSender(t, s)

	sink.mu.Lock()
	calls := sink.calls
	sink.mu.Unlock()
	require.Len(t, calls, 3)
	for _, ids := range calls {
		assert.ElementsMatch(t, []string{"a", "b"}, ids)
	}
	st := s.Stats()
	assert.Equal(t, int64(4), st.Retried)
	assert.Equal(t, int64(2), st.Sent)
}

func TestSenderPermanentErrorNotRetried(t *testing.T) {
	sink := &recordingSink{fail: func(context.Context, int, []Event) error {
		return Permanent(errors.New("credential rejected"))
	}}
	s := NewSender(sink, WithRetry(5, time.Millisecond, time.Millisecond))
	s.Record(testEvent(t, "a", 1, "m", 1, 1))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.Close(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "1 events lost")

	sink.mu.Lock()
	assert.Len(t, sink.calls, 1)
	sink.mu.Unlock()
	assert.Equal(t, int64(1), s.Stats().Failed)
}

func TestSenderGivesUpAfterLastAttempt(t *testing.T) {
	sink := &recordingSink{fail: func(context.Context, int, []Event) error {
		return errors.New("sink unavailable")
	}}
	s := NewSender(sink, WithRetry(3, time.Millisecond, time.Millisecond))
	s.Record(testEvent(t, "a", 1, "m", 1, 1))
	require.Error(t, s.Close(context.Background()))

	sink.mu.Lock()
	assert.Len(t, sink.calls, 3)
	sink.mu.Unlock()
	assert.Equal(t, int64(1), s.Stats().Failed)
	assert.Equal(t, int64(2), s.Stats().Retried)
}

func TestSenderPartialErrorRetriesRest(t *testing.T) {
	sink := &recordingSink{fail: func(_ context.Context, call int, _ []Event) error {
		if call == 0 {
			return &PartialError{Delivered: 2, Err: errors.New("third request failed")}
		}
		return nil
	}}
	s := NewSender(sink, WithRetry(3, time.Millisecond, time.Millisecond), WithWorkers(1))
	for _, id := range []string{"a", "b", "c", "d"} {
		s.Record(testEvent(t, id, 1, "m", 1, 1))
	}
	closeSender(t, s)

	sink.mu.Lock()
	calls := sink.calls
	sink.mu.Unlock()
	require.Len(t, calls, 2)
	assert.Len(t, calls[0], 4)
	assert.Equal(t, calls[0][2:], calls[1])
	assert.Equal(t, int64(4), s.Stats().Sent)
}

func TestSenderRetryAfterRaisesWait(t *testing.T) {
	var mu sync.Mutex
	var times []time.Time
	sink := &recordingSink{fail: func(_ context.Context, call int, _ []Event) error {
		mu.Lock()
		times = append(times, time.Now())
		mu.Unlock()
		if call == 0 {
			return &RetryAfterError{After: 200 * time.Millisecond, Err: errors.New("429")}
		}
		return nil
	}}
	s := NewSender(sink, WithRetry(3, time.Millisecond, time.Second), WithWorkers(1))
	s.Record(testEvent(t, "a", 1, "m", 1, 1))
	closeSender(t, s)

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, times, 2)
	assert.GreaterOrEqual(t, times[1].Sub(times[0]), 200*time.Millisecond)
}

func TestSenderSinkPanicCountsFailure(t *testing.T) {
	sink := &recordingSink{fail: func(context.Context, int, []Event) error { panic("broken sink") }}
	s := NewSender(sink)
	s.Record(testEvent(t, "a", 1, "m", 1, 1))
	err := s.Close(context.Background())
	require.Error(t, err)
	assert.Equal(t, int64(1), s.Stats().Failed)
}

func TestSenderCloseDeadlineReportsLost(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	s := NewSender(blockingSink(release), WithQueueEvents(16))
	for i := range 40 {
		s.Record(testEvent(t, fmt.Sprint(i), i%4, "m", 1, 1))
	}

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := s.Close(ctx)
	elapsed := time.Since(start)

	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "40 events lost")
	assert.Less(t, elapsed, time.Second)

	st := s.Stats()
	assert.Zero(t, st.Pending)
	assert.Zero(t, st.Sent)
}

func TestSenderFlushDeadlineReportsUndelivered(t *testing.T) {
	release := make(chan struct{})
	s := NewSender(blockingSink(release))
	for i := range 10 {
		s.Record(testEvent(t, fmt.Sprint(i), 1, "m", 1, 1))
	}

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := s.Flush(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "10 events not yet delivered")

	close(release)
	require.NoError(t, s.Flush(context.Background()))
	assert.Equal(t, int64(10), s.Stats().Sent)
	closeSender(t, s)
}

func TestSenderFlushDeliversQueued(t *testing.T) {
	sink := &recordingSink{}
	s := NewSender(sink, WithBatchInterval(time.Hour))
	defer closeSender(t, s)

	for i := range 10 {
		s.Record(testEvent(t, fmt.Sprint(i), i, "m", 1, 1))
	}
	require.NoError(t, s.Flush(context.Background()))
	assert.Len(t, sink.delivered(), 10)
}

func TestSenderDeliversMissingSource(t *testing.T) {
	sink := &recordingSink{}
	s := NewSender(sink)
	e := testEvent(t, "a", 1, "m", 0, 0)
	e.Source = SourceMissing
	e.Usage = Usage{}
	s.Record(e)
	closeSender(t, s)

	delivered := sink.delivered()
	require.Len(t, delivered, 1)
	assert.Equal(t, SourceMissing, delivered[0].Source)
}

func TestSenderRecordAllocatesNothing(t *testing.T) {
	release := make(chan struct{})
	s := NewSender(blockingSink(release), WithQueueEvents(1<<16), WithBatchSize(1<<16), WithBatchInterval(time.Hour))
	defer func() {
		close(release)
		closeSender(t, s)
	}()

	e := testEvent(t, "a", 1, "gpt-4o", 1, 1)
	e.Warnings = []string{"clamped"}
	queued := testing.AllocsPerRun(1000, func() { s.Record(e) })
	assert.Zero(t, queued)
}

func TestSenderFoldAllocatesNothing(t *testing.T) {
	release := make(chan struct{})
	s := NewSender(blockingSink(release), WithQueueEvents(1), WithWorkers(1))
	defer func() {
		close(release)
		closeSender(t, s)
	}()

	e := testEvent(t, "a", 1, "gpt-4o", 1, 1)
	s.Record(e)
	s.Record(e)
	foldedAllocs := testing.AllocsPerRun(1000, func() { s.Record(e) })
	assert.Zero(t, foldedAllocs)
	assert.Positive(t, s.Stats().Folded)
}

func TestSenderVarPublishesStats(t *testing.T) {
	s := NewSender(&recordingSink{})
	s.Record(testEvent(t, "a", 1, "m", 1, 1))
	closeSender(t, s)

	var st Stats
	require.NoError(t, json.Unmarshal([]byte(s.Var().String()), &st))
	assert.Equal(t, int64(1), st.Recorded)
	assert.Equal(t, int64(1), st.Sent)
}

func TestSenderInvalidOptionsKeepDefaults(t *testing.T) {
	s := NewSender(&recordingSink{}, WithWorkers(-1), WithQueueEvents(0), WithBatchSize(-5),
		WithBatchInterval(-time.Second), WithRetry(0, -1, -1), WithSenderLogger(nil), nil)
	assert.Len(t, s.workers, DefaultSenderWorkers)
	assert.Equal(t, DefaultSenderBatchSize, s.cfg.batchSize)
	assert.Equal(t, DefaultSenderMaxAttempts, s.cfg.maxAttempts)
	closeSender(t, s)
}

func TestSenderLogsDropsAndFailures(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	sink := &recordingSink{fail: func(context.Context, int, []Event) error {
		return Permanent(errors.New("credential rejected"))
	}}
	s := NewSender(sink, WithSenderLogger(logger), WithBatchInterval(10*time.Millisecond))
	s.Record(testEvent(t, "a", 1, "m", 1, 1))
	require.Error(t, s.Close(context.Background()))
	s.Record(testEvent(t, "late", 1, "m", 1, 1))

	text := logs.String()
	assert.Contains(t, text, "usage: batch failed")
	assert.Contains(t, text, "reason=\"permanent error\"")
	assert.NotContains(t, text, "token-1")
}

func TestSenderLogsDropCounts(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	release := make(chan struct{})
	sink := blockingSink(release)
	s := NewSender(sink, WithSenderLogger(logger), WithQueueEvents(1), WithMaxFoldKeys(1),
		WithWorkers(1), WithBatchSize(1), WithBatchInterval(10*time.Millisecond))

	// The first event reaches the sink, whose Send then blocks, so the
	// worker takes nothing more and the queue and fold table fill up.
	s.Record(testEvent(t, "0", 1, "model-0", 1, 1))
	sink.waitForCalls(t, 1)
	for i := 1; i < 20; i++ {
		s.Record(testEvent(t, fmt.Sprint(i), 1, fmt.Sprintf("model-%d", i), 1, 1))
	}
	require.Positive(t, s.Stats().Dropped.FoldKeysFull)
	close(release)
	closeSender(t, s)

	text := logs.String()
	assert.Contains(t, text, "usage: events dropped")
	assert.Contains(t, text, fmt.Sprintf("total_since_start=%d", s.Stats().Dropped.Total()))
}

func TestSenderBoundsBatchesOfManyTokens(t *testing.T) {
	sink := &recordingSink{}
	s := NewSender(sink, WithQueueEvents(64), WithBatchSize(100), WithBatchInterval(time.Hour), WithWorkers(1))
	defer closeSender(t, s)

	for i := range 1000 {
		s.Record(testEvent(t, fmt.Sprint(i), i, "m", 1, 1))
	}
	// Events may wait in the queue (64), in the worker's partial batches
	// (fewer than 64) and in the shards' overflow totals (one per shard).
	bound := 2*64 + len(s.queue.shards)
	require.Eventually(t, func() bool {
		return s.Stats().Pending <= int64(bound)
	}, 5*time.Second, time.Millisecond, "the worker kept more than the queue bound in partial batches")
	assert.GreaterOrEqual(t, len(sink.delivered()), 1000-bound)
}

func TestSenderNilContextUsesBackground(t *testing.T) {
	sink := &recordingSink{}
	s := NewSender(sink)
	s.Record(testEvent(t, "a", 1, "m", 1, 1))

	//lint:ignore SA1012 a nil context is the bad input under test
	require.NoError(t, s.Flush(nil))
	//lint:ignore SA1012 a nil context is the bad input under test
	require.NoError(t, s.Close(nil))
	assert.Len(t, sink.delivered(), 1)
}

func TestNilSenderDoesNothing(t *testing.T) {
	var s *Sender
	assert.NotPanics(t, func() { s.Record(testEvent(t, "a", 1, "m", 1, 1)) })
	assert.NoError(t, s.Flush(context.Background()))
	assert.NoError(t, s.Close(context.Background()))
	assert.Equal(t, Stats{}, s.Stats())
}

// lockedBuffer is a bytes.Buffer that a logger on a worker goroutine may
// write while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// dropRecords returns the "usage: events dropped" records in JSON logs.
func dropRecords(t *testing.T, logs string) []map[string]any {
	t.Helper()
	var records []map[string]any
	for line := range strings.Lines(logs) {
		var record map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &record), "log line %q", line)
		if record["msg"] == "usage: events dropped" {
			records = append(records, record)
		}
	}
	return records
}

func TestSenderDropLogCountsAreDeltas(t *testing.T) {
	var logs lockedBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	s := NewSender(nil, WithSenderLogger(logger), WithWorkers(1), WithBatchInterval(5*time.Millisecond))

	for i := range 3 {
		s.Record(testEvent(t, fmt.Sprint(i), 1, "m", 1, 1))
	}
	require.Eventually(t, func() bool { return len(dropRecords(t, logs.String())) >= 1 },
		2*time.Second, time.Millisecond, "no drop report after the first events")

	for i := range 5 {
		s.Record(testEvent(t, fmt.Sprint(i), 1, "m", 1, 1))
	}
	require.Eventually(t, func() bool {
		noSink := 0.0
		for _, record := range dropRecords(t, logs.String()) {
			noSink += record["no_sink"].(float64)
		}
		return noSink == 8
	}, 2*time.Second, time.Millisecond, "the drop reports never added up to the 8 events")
	closeSender(t, s)

	records := dropRecords(t, logs.String())
	require.GreaterOrEqual(t, len(records), 2)
	var sum float64
	for i, record := range records {
		reasons := 0.0
		for _, reason := range []string{"closed", "fold_keys_full", "fold_collision", "shutdown", "no_sink"} {
			reasons += record[reason].(float64)
		}
		assert.Equal(t, reasons, record["total"], "record %d: total is not the sum of its reasons: %v", i, record)
		sum += record["total"].(float64)
		assert.Equal(t, sum, record["total_since_start"], "record %d: %v", i, record)
	}
	assert.Equal(t, float64(8), sum)
}

func TestSenderCloseCountsEventsInSink(t *testing.T) {
	release := make(chan struct{})
	sink := &recordingSink{fail: func(context.Context, int, []Event) error {
		<-release // This sink ignores its context.
		return nil
	}}
	s := NewSender(sink, WithWorkers(1), WithBatchInterval(time.Hour))

	for i := range 10 {
		s.Record(testEvent(t, fmt.Sprint(i), 1, "m", 1, 1))
	}
	flushCtx, cancelFlush := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancelFlush()
	require.Error(t, s.Flush(flushCtx))
	require.Eventually(t, func() bool {
		sink.mu.Lock()
		defer sink.mu.Unlock()
		return len(sink.calls) == 1 && len(sink.calls[0]) == 10
	}, 2*time.Second, time.Millisecond, "the 10 events never reached the sink in one batch")
	for i := range 5 {
		s.Record(testEvent(t, fmt.Sprint("late-", i), 1, "m", 1, 1))
	}

	// start is taken before the context, so the deadline is at least 50ms
	// after it.
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := s.Close(ctx)
	elapsed := time.Since(start)

	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "5 events lost (0 failed, 5 abandoned at the deadline)")
	assert.Contains(t, err.Error(), "10 events still being sent by the sink")
	assert.Contains(t, err.Error(), "make Sink.Send honour its context")
	assert.GreaterOrEqual(t, elapsed, 50*time.Millisecond+shutdownGrace)
	assert.Less(t, elapsed, 50*time.Millisecond+shutdownGrace+time.Second)
	assert.Equal(t, int64(15), s.Stats().Pending)

	close(release)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		require.Fail(t, "the worker did not exit after the sink returned")
	}
	st := s.Stats()
	assert.Equal(t, int64(10), st.Sent)
	assert.Equal(t, int64(5), st.Dropped.Shutdown)
	assert.Zero(t, st.Pending)
	assert.Equal(t, err, s.Close(context.Background()), "a later Close returns the first result")
}
