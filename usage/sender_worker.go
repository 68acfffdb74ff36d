package usage

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"
)

// senderWorker is one delivery goroutine. It owns a fixed set of queue shards
// and groups the events it takes from them into batches, one per token, so a
// batch never mixes credentials. Every worker also takes folded totals.
type senderWorker struct {
	s      *Sender
	shards []*queueShard

	// wake is signalled when an owned shard reaches its wake threshold (see
	// arm) or is full, and when Record adds to the fold table. flush
	// carries Flush requests, each closed when it is done.
	wake  chan struct{}
	flush chan chan struct{}

	// drained is the number of events the last collect took from each
	// owned shard, in the order of shards. arm shares the wake thresholds
	// out in proportion to it.
	drained []int

	// batches maps a token to the events waiting for it. The token is used
	// only as a map key in memory and never logged.
	batches map[string]*tokenBatch

	// buffer and bufferSizes hold the events of one drain and their sizes
	// from eventSize, index by index.
	buffer      []Event
	bufferSizes []int64

	// pendingEvents and pendingBytes measure the events waiting in batches.
	// When they reach the capacity of the owned shards, every batch is sent
	// at once, so a worker never holds more than its share of the queue
	// bound, however many tokens the events carry.
	pendingEvents    int
	pendingBytes     int64
	maxPendingEvents int
	maxPendingBytes  int64

	// reportsDrops is set on one worker, which logs the drop counters once
	// per batch interval when they changed. Record itself never logs.
	reportsDrops bool
	lastDrops    DropCounts
}

// tokenBatch is the batch of events waiting for one token, with the sum of
// their sizes from eventSize.
type tokenBatch struct {
	token  string
	events []Event
	bytes  int64
}

func newSenderWorker(s *Sender) *senderWorker {
	return &senderWorker{
		s:       s,
		wake:    make(chan struct{}, 1),
		flush:   make(chan chan struct{}),
		batches: make(map[string]*tokenBatch),
	}
}

// run delivers batches until the Sender stops, then delivers what is left.
func (w *senderWorker) run() {
	ticker := time.NewTicker(w.s.cfg.batchInterval)
	defer ticker.Stop()

	for {
		select {
		case <-w.s.stop:
			w.collect()
			w.sendAll()
			w.logDrops()
			return

		case finished := <-w.flush:
			w.collect()
			w.sendAll()
			close(finished)

		case <-w.wake:
			w.collect()

		case <-ticker.C:
			w.collect()
			w.sendAll()
			w.logDrops()
		}
	}
}

// collect takes every event now in the owned shards and every folded total,
// adds them to the batches of their tokens, sends each batch that reaches
// the batch size, and then sets new wake thresholds.
func (w *senderWorker) collect() {
	for i, sh := range w.shards {
		w.buffer, w.bufferSizes = sh.drain(w.buffer[:0], w.bufferSizes[:0])
		w.drained[i] = len(w.buffer)
		w.addAll(w.buffer, w.bufferSizes)
	}

	w.buffer = w.s.fold.take(w.buffer[:0])
	w.bufferSizes = w.bufferSizes[:0]
	for i := range w.buffer {
		w.bufferSizes = append(w.bufferSizes, eventSize(&w.buffer[i]))
	}
	w.addAll(w.buffer, w.bufferSizes)

	clear(w.buffer)
	w.buffer = w.buffer[:0]

	if w.pendingEvents >= w.maxPendingEvents || w.pendingBytes >= w.maxPendingBytes {
		w.sendAll()
	}
	w.arm()
}

// arm sets the wake threshold of every owned shard. Record then wakes this
// worker as soon as the shards hold enough events to fill the largest
// waiting batch, however the events are spread over the shards, and no
// counter is shared by the shards.
//
// Let need be the number of events that the largest batch lacks. Shard i
// wakes the worker when its length reaches t_i, and the thresholds satisfy
// sum(t_i - 1) <= need - 1. While no shard has reached its threshold, the
// shards therefore hold at most need - 1 events, so no batch can be full.
// The room need - 1 is shared out in proportion to the events each shard
// held at the last collect. With per-P affinity one producer usually fills
// one shard, which then wakes the worker once per batch. An idle shard wakes
// the worker at its first event, and the next arm gives that shard a share.
func (w *senderWorker) arm() {
	if len(w.shards) == 0 {
		return
	}

	largest := 0
	for _, batch := range w.batches {
		largest = max(largest, len(batch.events))
	}
	room := max(w.s.cfg.batchSize-largest-1, 0)

	total := 0
	for _, n := range w.drained {
		total += n
	}

	again := false
	for i, sh := range w.shards {
		share := room / len(w.shards)
		if total > 0 {
			share = room * w.drained[i] / total
		}
		if sh.arm(1 + share) {
			again = true
		}
	}

	// A shard may have reached its new threshold, or filled up, while this
	// worker collected, and Record sends no wake for it after an earlier
	// one, so the worker wakes itself.
	if again {
		notify(w.wake)
	}
}

// addAll adds events to the batches of their tokens and sends each batch
// that reaches the batch size. sizes holds the size of each event. Events of
// one producer tend to come in runs of one token, so the map is consulted
// only when the token changes.
func (w *senderWorker) addAll(events []Event, sizes []int64) {
	size := w.s.cfg.batchSize
	var batch *tokenBatch
	for i := range events {
		token := events[i].Credential.Token
		if batch == nil || batch.token != token {
			batch = w.batchOf(token)
		}

		batch.events = append(batch.events, events[i])
		batch.bytes += sizes[i]
		w.pendingEvents++
		w.pendingBytes += sizes[i]

		if len(batch.events) >= size {
			w.sendBatch(batch)
		}
	}
}

// batchOf returns the batch of token, adding an empty one when there is
// none.
func (w *senderWorker) batchOf(token string) *tokenBatch {
	batch, ok := w.batches[token]
	if !ok {
		batch = &tokenBatch{token: token}
		w.batches[token] = batch
	}
	return batch
}

// sendAll sends every waiting batch and deletes its map entry, so the map
// does not grow with every user ever seen.
func (w *senderWorker) sendAll() {
	for token, batch := range w.batches {
		if len(batch.events) > 0 {
			w.sendBatch(batch)
		}
		delete(w.batches, token)
	}
}

// sendBatch sends batch, then empties it so it keeps no strings alive, and
// stops counting its events as pending.
func (w *senderWorker) sendBatch(batch *tokenBatch) {
	w.send(batch.events)

	w.pendingEvents -= len(batch.events)
	w.pendingBytes -= batch.bytes
	clear(batch.events)
	batch.events = batch.events[:0]
	batch.bytes = 0
}

// send delivers one batch, retrying retryable errors with jittered backoff
// until the batch deadline or the last attempt. Events the sink accepted in
// a PartialError are not sent again.
func (w *senderWorker) send(batch []Event) {
	s := w.s
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.batchTimeout)
	defer cancel()

	remaining := batch
	for attempt := 1; ; attempt++ {
		if s.ctx.Err() != nil {
			w.abandon(remaining)
			return
		}

		result := w.sendOnce(ctx, remaining)
		if result.err == nil {
			s.counters.sent.Add(countEvents(remaining))
			return
		}
		err := result.err

		if result.delivered > 0 {
			delivered := min(result.delivered, len(remaining))
			s.counters.sent.Add(countEvents(remaining[:delivered]))
			remaining = remaining[delivered:]
			if len(remaining) == 0 {
				return
			}
		}

		if s.ctx.Err() != nil {
			w.abandon(remaining)
			return
		}

		reason := ""
		switch {
		case result.permanent:
			reason = "permanent error"
		case attempt >= s.cfg.maxAttempts:
			reason = "last attempt failed"
		case ctx.Err() != nil:
			reason = "batch deadline passed"
		}
		if reason != "" {
			w.fail(remaining, attempt, reason, err)
			return
		}

		wait := w.backoff(attempt, result.retryAfter)
		s.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "usage: retrying batch",
			slog.Int("events", len(remaining)), slog.Int("attempt", attempt),
			slog.Duration("wait", wait), slog.Any("error", err))

		timer := time.NewTimer(wait)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			if s.ctx.Err() != nil {
				w.abandon(remaining)
				return
			}
			w.fail(remaining, attempt, "batch deadline passed", err)
			return
		}
		s.counters.retried.Add(countEvents(remaining))
	}
}

// logDrops logs how many events were dropped since the last call, by reason
// and in total, when this worker reports drops and the counts changed. The
// field total_since_start is the only cumulative count.
func (w *senderWorker) logDrops() {
	if !w.reportsDrops {
		return
	}
	drops := w.s.Stats().Dropped
	if drops == w.lastDrops {
		return
	}

	last := w.lastDrops
	w.lastDrops = drops
	w.s.cfg.logger.LogAttrs(context.Background(), slog.LevelWarn, "usage: events dropped",
		slog.Int64("closed", drops.Closed-last.Closed),
		slog.Int64("fold_keys_full", drops.FoldKeysFull-last.FoldKeysFull),
		slog.Int64("fold_collision", drops.FoldCollision-last.FoldCollision),
		slog.Int64("shutdown", drops.Shutdown-last.Shutdown),
		slog.Int64("no_sink", drops.NoSink-last.NoSink),
		slog.Int64("total", drops.Total()-last.Total()),
		slog.Int64("total_since_start", drops.Total()))
}

// sendOnce calls the sink on a goroutine of its own, waits for it and
// returns the outcome as a sinkResult. A panic in Send, or in the methods
// of the error it returns, becomes a permanent error, so a broken sink
// cannot take the process down. A sink that calls runtime.Goexit (as
// testing.T.FailNow does) ends only that goroutine, and its batch fails the
// same way, where it would otherwise end the worker with events in its
// batches. sendOnce counts the events in Sender.sending while Send runs.
func (w *senderWorker) sendOnce(ctx context.Context, events []Event) sinkResult {
	count := countEvents(events)
	w.s.sending.Add(count)
	defer w.s.sending.Add(-count)

	token := events[0].Credential.Token
	results := make(chan sinkResult, 1)
	go func() {
		returned := false
		defer func() {
			if r := recover(); r != nil {
				results <- permanentResult(fmt.Sprintf("usage: sink %T panicked: %v", w.s.sink, r), token)
			} else if !returned {
				results <- permanentResult(fmt.Sprintf("usage: sink %T called runtime.Goexit", w.s.sink), token)
			}
		}()

		err := w.s.sink.Send(ctx, events)
		result := classifySinkError(err, token)
		returned = true
		results <- result
	}()
	return <-results
}

// fail counts events as failed and logs why. err comes from a sinkResult,
// so it carries no token.
func (w *senderWorker) fail(events []Event, attempts int, reason string, err error) {
	w.s.counters.failed.Add(countEvents(events))
	w.s.cfg.logger.LogAttrs(context.Background(), slog.LevelError, "usage: batch failed",
		slog.Int("events", len(events)), slog.Int("attempts", attempts),
		slog.String("reason", reason), slog.Any("error", err))
}

// abandon counts events as dropped because Close cancelled their delivery.
func (w *senderWorker) abandon(events []Event) {
	w.s.counters.shutdown.Add(countEvents(events))
}

// backoff returns a wait drawn uniformly from [0, min(maxBackoff,
// minBackoff*2^(attempt-1))], raised to retryAfter, a server's Retry-After
// that the sink reported or 0, and clamped to maxBackoff.
func (w *senderWorker) backoff(attempt int, retryAfter time.Duration) time.Duration {
	cfg := &w.s.cfg
	ceiling := cfg.minBackoff
	for i := 1; i < attempt && ceiling < cfg.maxBackoff; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, cfg.maxBackoff)
	wait := time.Duration(rand.Int64N(int64(ceiling) + 1))

	return max(wait, min(retryAfter, cfg.maxBackoff))
}

func countEvents(events []Event) int64 {
	var n int64
	for i := range events {
		n += int64(events[i].Count)
	}
	return n
}
