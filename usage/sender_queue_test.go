package usage

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// collectTwice runs two garbage collections, which empty every sync.Pool:
// the first moves its items to the victim cache and the second drops them.
func collectTwice() {
	runtime.GC()
	runtime.GC()
}

// mallocsOf returns the number of heap allocations made while f ran.
func mallocsOf(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.Mallocs - before.Mallocs
}

// pushTo puts e into shard i as Record does when the pool hands it that
// shard.
func pushTo(t *testing.T, s *Sender, i int, e Event) {
	t.Helper()
	sh := &s.queue.shards[i]
	sh.mu.Lock()
	result, _ := sh.push(&e, &s.closed, false)
	require.Equal(t, pushed, result, "shard %d did not queue event %s", i, e.ID)
}

func TestSenderRecordAllocatesNothingAfterGC(t *testing.T) {
	release := make(chan struct{})
	s := NewSender(blockingSink(release), WithQueueEvents(1<<16), WithBatchSize(1<<16), WithBatchInterval(time.Hour))
	defer func() {
		close(release)
		closeSender(t, s)
	}()
	e := testEvent(t, "a", 1, "gpt-4o", 1, 1)
	e.Warnings = []string{"clamped"}
	s.Record(e)

	collectTwice()
	first := mallocsOf(func() { s.Record(e) })
	assert.LessOrEqual(t, first, uint64(2),
		"the first Record after a GC may only let sync.Pool rebuild its per-P array and register itself again")

	collectTwice()
	queued := testing.AllocsPerRun(1000, func() { s.Record(e) })
	assert.Zero(t, queued)
}

func TestSenderFoldAllocatesNothingAfterGC(t *testing.T) {
	release := make(chan struct{})
	sink := blockingSink(release)
	s := NewSender(sink, WithQueueEvents(1), WithBatchSize(1), WithWorkers(1), WithBatchInterval(time.Hour))
	defer func() {
		close(release)
		closeSender(t, s)
	}()

	// The first event reaches the sink, whose Send then blocks, so the
	// worker allocates nothing while the test counts.
	e := testEvent(t, "a", 1, "gpt-4o", 1, 1)
	s.Record(e)
	sink.waitForCalls(t, 1)
	s.Record(e)
	s.Record(e)

	collectTwice()
	folded := testing.AllocsPerRun(1000, func() { s.Record(e) })
	assert.Zero(t, folded)
	assert.Equal(t, int64(1002), s.Stats().Folded)
}

func TestSenderFullBatchSpreadOverShards(t *testing.T) {
	const batchSize = 10
	cases := []struct {
		name string
		// shardOf returns the shard of the i-th of the events that complete
		// the batch, given the number of shards.
		shardOf func(i, shards int) int
	}{
		{name: "same shard as the partial batch", shardOf: func(int, int) int { return 0 }},
		{name: "one event per shard", shardOf: func(i, shards int) int { return 1 + i%(shards-1) }},
		{name: "last event in another shard", shardOf: func(i, shards int) int {
			if i == batchSize-4 {
				return shards - 1
			}
			return 0
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sink := &recordingSink{}
			s := NewSender(sink, WithBatchSize(batchSize), WithBatchInterval(time.Hour), WithQueueEvents(1024), WithWorkers(1))
			defer closeSender(t, s)
			shards := len(s.queue.shards)
			require.GreaterOrEqual(t, shards, 4)

			// Three events in one shard reach its first wake threshold, at
			// most 1+(batchSize-1)/4, so the worker takes some or all of
			// them into a partial batch.
			for i := range 3 {
				pushTo(t, s, 0, testEvent(t, fmt.Sprint("partial-", i), 1, "m", 1, 1))
			}
			require.Eventually(t, func() bool { return s.Stats().Queued < 3 },
				2*time.Second, time.Millisecond, "the worker did not start a partial batch")
			require.Empty(t, sink.delivered())

			for i := range batchSize - 3 {
				pushTo(t, s, tc.shardOf(i, shards), testEvent(t, fmt.Sprint("rest-", i), 1, "m", 1, 1))
			}
			require.Eventually(t, func() bool { return len(sink.delivered()) == batchSize },
				2*time.Second, time.Millisecond, "the full batch waited for the batch interval")
		})
	}
}

func TestSenderRecordSkipsLockedShards(t *testing.T) {
	sink := &recordingSink{}
	s := NewSender(sink, WithWorkers(1), WithBatchInterval(time.Hour))
	shards := s.queue.shards
	free := len(shards) - 1
	for i := range free {
		shards[i].mu.Lock()
	}

	e := testEvent(t, "a", 1, "m", 1, 1)
	recorded := make(chan struct{})
	go func() {
		s.Record(e)
		close(recorded)
	}()
	select {
	case <-recorded:
	case <-time.After(5 * time.Second):
		require.Fail(t, "Record waited for a locked shard while another was free")
	}

	shards[free].mu.Lock()
	queued := shards[free].length
	shards[free].mu.Unlock()
	assert.Equal(t, 1, queued)

	for i := range free {
		shards[i].mu.Unlock()
	}
	closeSender(t, s)
	assert.Len(t, sink.delivered(), 1)
}

func TestSenderProducerMovesOnWhenShardFills(t *testing.T) {
	release := make(chan struct{})
	sink := blockingSink(release)
	s := NewSender(sink, WithQueueEvents(1024), WithBatchSize(1), WithWorkers(1), WithBatchInterval(time.Hour))

	// The first event reaches the sink, whose Send then blocks, so the
	// worker takes nothing more from the queue.
	s.Record(testEvent(t, "first", 1, "m", 1, 1))
	sink.waitForCalls(t, 1)

	capacity := len(s.queue.shards[0].ring)
	e := testEvent(t, "e", 1, "m", 1, 1)
	for range 2 * capacity {
		s.Record(e)
	}
	st := s.Stats()
	assert.Equal(t, int64(2*capacity+1), st.Recorded)
	assert.Greater(t, st.Queued, int64(capacity), "one goroutine's events stayed in one shard and were folded")

	close(release)
	closeSender(t, s)
	assert.Equal(t, int64(2*capacity+1), s.Stats().Sent)
}

func TestSenderCloseWhileRecording(t *testing.T) {
	sink := &recordingSink{}
	s := NewSender(sink, WithQueueEvents(64), WithBatchInterval(time.Millisecond))

	stop := make(chan struct{})
	var producers sync.WaitGroup
	for g := range 4 {
		e := testEvent(t, fmt.Sprint("g", g), g, "m", 1, 1)
		producers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				s.Record(e)
				_ = s.Stats()
			}
		})
	}

	time.Sleep(20 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, s.Close(ctx))
	afterClose := s.Stats()
	s.Record(testEvent(t, "late", 1, "m", 1, 1))
	close(stop)
	producers.Wait()

	st := s.Stats()
	_, delivered := sumUsage(sink.delivered())
	assert.Equal(t, afterClose.Sent, st.Sent, "an event was sent after Close returned")
	assert.Equal(t, st.Sent, int64(delivered))
	assert.Positive(t, st.Dropped.Closed)
	assert.Equal(t, st.Recorded, st.Sent+st.Dropped.Closed)
	assert.Zero(t, st.Pending)
	assert.Zero(t, st.Queued)
}

func TestQueueReturnsBorrowedBytes(t *testing.T) {
	const queueBytes = 64 << 10
	sink := &recordingSink{}
	s := NewSender(sink, WithQueueBytes(queueBytes), WithBatchInterval(time.Hour))
	defer closeSender(t, s)
	spare := s.queue.spareBytes.Load()

	// Each event is larger than one shard's share, so it can only be queued
	// with borrowed bytes. If a drain did not give them back, the later
	// events would find the spare bytes used up and be folded.
	raw := []byte(`{"pad":"` + strings.Repeat("x", queueBytes/4) + `"}`)
	require.Greater(t, int64(len(raw)), s.queue.shards[0].maxBytes)
	for i := range 8 {
		e := testEvent(t, fmt.Sprint("large-", i), 1, "gpt-4o", 1, 1)
		e.Usage.Raw = raw
		s.Record(e)
		require.NoError(t, s.Flush(context.Background()))
	}

	assert.Zero(t, s.Stats().Folded)
	assert.Equal(t, spare, s.queue.spareBytes.Load(), "spare bytes after every drain")
	for _, e := range sink.delivered() {
		assert.Len(t, e.Usage.Raw, len(raw), "event %s lost its Raw usage", e.ID)
	}
	assert.Len(t, sink.delivered(), 8)
}

func TestQueueFoldsEventLargerThanSpareBytes(t *testing.T) {
	const queueBytes = 16 << 10
	release := make(chan struct{})
	s := NewSender(blockingSink(release), WithQueueBytes(queueBytes), WithBatchInterval(time.Hour))
	defer func() {
		close(release)
		closeSender(t, s)
	}()

	// Half the bound is spare, so an event over half the bound never fits.
	e := testEvent(t, "huge", 1, "gpt-4o", 1, 1)
	e.Usage.Raw = []byte(`{"pad":"` + strings.Repeat("x", queueBytes/2) + `"}`)
	s.Record(e)

	st := s.Stats()
	assert.Equal(t, int64(1), st.Folded)
	assert.Zero(t, st.Queued)
}
