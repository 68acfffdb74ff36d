package usage

import (
	"context"
	"errors"
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

	// wake is signalled by Record when an owned shard holds a full batch or
	// is full; flush carries Flush requests, closed when they are done.
	wake  chan struct{}
	flush chan chan struct{}

	// batches maps a token to the events waiting for it. The token is used
	// only as a map key in memory and never logged.
	batches map[string][]Event
	buffer  []Event

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

func newSenderWorker(s *Sender) *senderWorker {
	return &senderWorker{
		s:       s,
		wake:    make(chan struct{}, 1),
		flush:   make(chan chan struct{}),
		batches: make(map[string][]Event),
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
// adds them to the batches of their tokens, and sends each batch that
// reaches the batch size.
func (w *senderWorker) collect() {
	for _, sh := range w.shards {
		w.buffer = sh.drain(w.buffer[:0], len(sh.ring))
		w.addAll(w.buffer)
	}

	w.buffer = w.s.fold.take(w.buffer[:0])
	w.addAll(w.buffer)

	clear(w.buffer)
	w.buffer = w.buffer[:0]

	if w.pendingEvents >= w.maxPendingEvents || w.pendingBytes >= w.maxPendingBytes {
		w.sendAll()
	}
}

func (w *senderWorker) addAll(events []Event) {
	size := w.s.cfg.batchSize
	for i := range events {
		token := events[i].Credential.Token
		batch := append(w.batches[token], events[i])
		w.pendingEvents++
		w.pendingBytes += eventSize(&events[i])

		if len(batch) >= size {
			w.sendBatch(batch)
			batch = batch[:0]
		}
		w.batches[token] = batch
	}
}

// sendAll sends every waiting batch and deletes its map entry, so the map
// does not grow with every user ever seen.
func (w *senderWorker) sendAll() {
	for token, batch := range w.batches {
		if len(batch) > 0 {
			w.sendBatch(batch)
		}
		delete(w.batches, token)
	}
}

// sendBatch sends batch, then clears it so it keeps no strings alive, and
// stops counting its events as pending.
func (w *senderWorker) sendBatch(batch []Event) {
	w.send(batch)

	for i := range batch {
		w.pendingBytes -= eventSize(&batch[i])
	}
	w.pendingEvents -= len(batch)
	clear(batch)
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
			s.counters.shutdown.Add(countEvents(remaining))
			return
		}

		err := w.sendOnce(ctx, remaining)
		if err == nil {
			s.counters.sent.Add(countEvents(remaining))
			return
		}

		if partial, ok := errors.AsType[*PartialError](err); ok && partial.Delivered > 0 {
			delivered := min(partial.Delivered, len(remaining))
			s.counters.sent.Add(countEvents(remaining[:delivered]))
			remaining = remaining[delivered:]
			if len(remaining) == 0 {
				return
			}
		}

		if s.ctx.Err() != nil {
			s.counters.shutdown.Add(countEvents(remaining))
			return
		}

		reason := ""
		switch {
		case IsPermanent(err):
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

		wait := w.backoff(attempt, err)
		s.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "usage: retrying batch",
			slog.Int("events", len(remaining)), slog.Int("attempt", attempt),
			slog.Duration("wait", wait), slog.Any("error", err))

		timer := time.NewTimer(wait)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			if s.ctx.Err() != nil {
				s.counters.shutdown.Add(countEvents(remaining))
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

// sendOnce calls the sink, turning a panic into a permanent error so a broken
// sink cannot take the process down. It counts the events in Sender.sending
// while Send runs.
func (w *senderWorker) sendOnce(ctx context.Context, events []Event) (err error) {
	count := countEvents(events)
	w.s.sending.Add(count)
	defer func() {
		w.s.sending.Add(-count)
		if r := recover(); r != nil {
			err = Permanent(fmt.Errorf("usage: sink %T panicked: %v", w.s.sink, r))
		}
	}()
	return w.s.sink.Send(ctx, events)
}

func (w *senderWorker) fail(events []Event, attempts int, reason string, err error) {
	w.s.counters.failed.Add(countEvents(events))
	w.s.cfg.logger.LogAttrs(context.Background(), slog.LevelError, "usage: batch failed",
		slog.Int("events", len(events)), slog.Int("attempts", attempts),
		slog.String("reason", reason), slog.Any("error", err))
}

// backoff returns a wait drawn uniformly from [0, min(maxBackoff,
// minBackoff*2^(attempt-1))], raised to a server's Retry-After when the sink
// reported one, and clamped to maxBackoff.
func (w *senderWorker) backoff(attempt int, err error) time.Duration {
	cfg := &w.s.cfg
	ceiling := cfg.minBackoff
	for i := 1; i < attempt && ceiling < cfg.maxBackoff; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, cfg.maxBackoff)
	wait := time.Duration(rand.Int64N(int64(ceiling) + 1))

	if retryAfter, ok := errors.AsType[*RetryAfterError](err); ok {
		wait = max(wait, min(retryAfter.After, cfg.maxBackoff))
	}
	return wait
}

func countEvents(events []Event) int64 {
	var n int64
	for i := range events {
		n += int64(events[i].Count)
	}
	return n
}
