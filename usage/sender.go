package usage

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/httpmeter/httpmeter/internal/eventid"
)

// A Sender is the Recorder that the transport hands events to.
var _ Recorder = (*Sender)(nil)

// maxEventCount is the largest Count that Record accepts. It keeps the sums
// of folded totals and of the counters far from overflow.
const maxEventCount = math.MaxInt32

// shutdownGrace bounds how long Close waits for the workers after cancelling
// their context at its deadline. A Sink that honours its context returns
// well within it, and a Sink that ignores it cannot hold Close longer.
const shutdownGrace = time.Second

// Sender is the bounded asynchronous [Recorder]. Record copies the event into
// a preallocated queue and returns. A fixed number of worker goroutines take
// events from the queue, group them into batches of one credential each, and
// deliver them to the [Sink] with jittered retries.
//
// The queue is split into shards, 4 per GOMAXPROCS, and Record uses the
// shard of the calling P. When that shard is full, in events or in estimated
// bytes, Record folds the event into a total per token, workspace, product,
// model and usage source, so token sums stay exact. A total keeps the counts
// of the events it replaces, not their IDs, Raw usage or warnings. Folding
// can therefore start before every shard is full. Only when the number of
// distinct totals reaches its own bound and no shard has room for the event
// is it dropped. Every drop is counted in [Sender.Stats] by reason. Besides
// that bound, each queue shard keeps one total of its own for the key it saw
// last, so a burst of one key folds without a shared lock.
// Memory stays bounded by the queue, the workers' partial batches (at most
// the queue's size again) and the folded totals.
//
// A Sender is safe for concurrent use. Events keep their ID across retries. A
// Sender built with a nil sink counts every event as dropped, and the methods
// of a nil *Sender do nothing. Events whose
// Source is SourceMissing are delivered like any other; each sink documents
// what it does with them.
type Sender struct {
	sink Sink
	cfg  senderConfig

	queue    eventQueue
	fold     foldTable
	counters senderCounters
	workers  []*senderWorker

	// closed is set when Close starts. Record reads it under the shard or
	// fold lock, which makes the Close barrier exact.
	closed atomic.Bool

	// sending is the number of events inside a call of Sink.Send now. Close
	// reports it when the sink ignores cancellation.
	sending atomic.Int64

	// ctx is cancelled at the deadline of Close, which aborts the Send in
	// progress and every retry wait.
	ctx    context.Context
	cancel context.CancelFunc

	// stop is closed to make the workers deliver what is left and exit.
	// done is closed when every worker has exited.
	stop chan struct{}
	done chan struct{}

	closeOnce     sync.Once
	closeFinished chan struct{}
	closeErr      error
}

// NewSender starts a Sender that delivers to sink, with its worker goroutines
// running until [Sender.Close].
func NewSender(sink Sink, opts ...SenderOption) *Sender {
	cfg := defaultSenderConfig()
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	s := &Sender{
		sink:          sink,
		cfg:           cfg,
		fold:          newFoldTable(cfg.maxFoldKeys),
		ctx:           ctx,
		cancel:        cancel,
		stop:          make(chan struct{}),
		done:          make(chan struct{}),
		closeFinished: make(chan struct{}),
	}
	s.queue.init(cfg.queueEvents, cfg.queueBytes)

	s.workers = make([]*senderWorker, cfg.workers)
	for i := range s.workers {
		s.workers[i] = newSenderWorker(s)
	}
	s.workers[0].reportsDrops = true
	for i := range s.queue.shards {
		w := s.workers[i%len(s.workers)]
		sh := &s.queue.shards[i]
		sh.wake = w.wake
		w.shards = append(w.shards, sh)
		w.maxPendingEvents += len(sh.ring)
		w.maxPendingBytes += sh.maxBytes
	}
	for _, w := range s.workers {
		// A worker without shards still batches folded totals.
		w.maxPendingEvents = max(w.maxPendingEvents, cfg.batchSize)
		w.maxPendingBytes = max(w.maxPendingBytes, cfg.queueBytes/int64(len(s.workers)))
		w.drained = make([]int, len(w.shards))
		w.arm()
	}

	var wg sync.WaitGroup
	for _, w := range s.workers {
		wg.Go(w.run)
	}
	go func() {
		wg.Wait()
		close(s.done)
	}()
	return s
}

// Record queues e for delivery, or folds it into a total when the queue
// shard it uses is full. It never waits for the sink. It locks the queue
// shard of the calling P, or a free shard when that one is locked. Only when
// every shard is locked does it wait, for one copy of an event or one drain
// of a shard by a worker. When the shard is full and its own total holds
// another key, it also takes the fold table's lock, and when no total can
// take the event, it looks for room in every shard before dropping it. It
// never starts a goroutine. It allocates nothing once the queue and the
// totals it uses exist, except that the first Record after a garbage
// collection lets sync.Pool rebuild its per-P array. A Count below 1 is
// taken as 1, and one above math.MaxInt32 as math.MaxInt32. An event without
// an ID gets a random one, which allocates, so that sinks can use IDs as
// idempotency keys. Record after Close counts e as dropped.
func (s *Sender) Record(e Event) {
	if s == nil {
		return
	}
	e.Count = min(max(e.Count, 1), maxEventCount)
	if e.ID == "" {
		e.ID = eventid.New()
	}
	count := int64(e.Count)

	// Every Record increments exactly one outcome counter (enqueued,
	// folded or dropped), and Stats derives Recorded from their sum, which
	// saves a shared increment per call.
	if s.sink == nil {
		s.counters.noSink.Add(count)
		return
	}

	result, sh := s.queue.push(&e, &s.closed)
	switch result {
	case pushed, pushFolded:
		return
	case pushClosed:
		s.counters.closed.Add(count)
		return
	}

	outcome := s.fold.add(&e, &s.closed)
	if outcome == folded {
		// The worker may have taken the fold table just before this add,
		// so it is woken after it.
		notify(sh.wake)
		return
	}

	// No total can take the event. Another shard may still have room.
	if outcome != foldClosed {
		switch s.queue.pushAnywhere(&e, &s.closed) {
		case pushed:
			return
		case pushClosed:
			outcome = foldClosed
		}
	}

	switch outcome {
	case foldKeysFull:
		s.counters.foldKeysFull.Add(count)
	case foldCollision:
		s.counters.foldCollision.Add(count)
	case foldClosed:
		s.counters.closed.Add(count)
	}
}

// Flush delivers every event queued or folded before the call and returns
// when the sink has accepted or rejected them. When Close cancels deliveries
// while Flush waits, Flush returns an error with the number of events that
// Close dropped meanwhile, which may include events recorded after Flush
// was called. At the deadline of ctx it returns an error with the number of
// events not yet delivered, which stay queued for a later Flush or Close.
// Flush does not cancel the delivery in progress, so unlike Close it returns
// at the deadline itself. Flush after Close returns the result of Close once
// it has finished.
func (s *Sender) Flush(ctx context.Context) error {
	if s == nil {
		return nil
	}
	if ctx == nil {
		ctx = context.Background()
	}
	abandonedBefore := s.counters.shutdown.Load()

	requests := make([]chan struct{}, 0, len(s.workers))
	for _, w := range s.workers {
		finished := make(chan struct{})
		select {
		case w.flush <- finished:
			requests = append(requests, finished)
		case <-s.done:
			return s.waitClose(ctx)
		case <-ctx.Done():
			return s.undeliveredError("Flush", ctx.Err())
		}
	}

	for _, finished := range requests {
		select {
		case <-finished:
		case <-ctx.Done():
			return s.undeliveredError("Flush", ctx.Err())
		}
	}
	if abandoned := s.counters.shutdown.Load() - abandonedBefore; abandoned > 0 {
		return fmt.Errorf("usage: Flush: %d events lost: Close cancelled their delivery", abandoned)
	}
	return nil
}

// Close stops accepting events, delivers what is queued or folded, and stops
// the workers. At the deadline of ctx it cancels the delivery in progress and
// then waits up to one second more for the workers to exit. That grace period
// lets a sink that honours its context return, so Close reports final counts
// and leaves no worker running.
//
// A sink that ignores cancellation keeps its worker running after Close
// returns. The events inside its Send stay Pending in [Sender.Stats] until
// Send returns, and then count as sent if it succeeded, else as dropped at
// shutdown. Close reports them as still being sent by the sink, apart from
// the events lost.
//
// Close returns an error with the number of events lost when the deadline
// passed or the sink rejected events during Close. Close is idempotent: later
// calls wait for the first to finish and return its result.
func (s *Sender) Close(ctx context.Context) error {
	if s == nil {
		return nil
	}
	if ctx == nil {
		ctx = context.Background()
	}

	first := false
	s.closeOnce.Do(func() { first = true })
	if !first {
		return s.waitClose(ctx)
	}

	s.shutdown(ctx)
	return s.closeErr
}

// shutdown runs the first Close and stores its result in closeErr before it
// closes closeFinished.
func (s *Sender) shutdown(ctx context.Context) {
	before := s.Stats()

	s.closed.Store(true)
	s.queue.barrier()
	s.fold.barrier()
	close(s.stop)

	var err error
	sinkIgnoredCancel := false
	select {
	case <-s.done:
	case <-ctx.Done():
		err = ctx.Err()
		s.cancel()
		select {
		case <-s.done:
		case <-time.After(shutdownGrace):
			sinkIgnoredCancel = true
		}
	}
	s.cancel()

	s.closeErr = s.closeError(before, err, sinkIgnoredCancel)
	close(s.closeFinished)
}

// closeError returns the result of the first Close from the counters before
// it, or nil when no event was lost and the deadline did not pass. When the
// sink ignored cancellation, the events inside its Send are reported apart,
// because it may still deliver them. The events waiting behind them count as
// abandoned, because the worker drops them once Send returns.
func (s *Sender) closeError(before Stats, err error, sinkIgnoredCancel bool) error {
	var inSink int64
	if sinkIgnoredCancel {
		inSink = s.sending.Load()
	}
	after := s.Stats()

	failed := after.Failed - before.Failed
	abandoned := after.Dropped.Shutdown - before.Dropped.Shutdown

	// Once the workers have exited, an event still pending was neither
	// delivered nor counted, so it is lost too. Only a sink that ignored
	// cancellation can still finish the events inside its Send.
	abandoned += max(after.Pending-inSink, 0)
	lost := failed + abandoned
	if lost == 0 && err == nil {
		return nil
	}
	if err == nil {
		err = errors.New("the sink rejected them")
	}

	if sinkIgnoredCancel {
		return fmt.Errorf("usage: Close: %d events lost (%d failed, %d abandoned at the deadline) "+
			"and %d events still being sent by the sink %s after the deadline: make Sink.Send honour its context: %w",
			lost, failed, abandoned, inSink, shutdownGrace, err)
	}
	return fmt.Errorf("usage: Close: %d events lost (%d failed, %d abandoned at the deadline): %w",
		lost, failed, abandoned, err)
}

// waitClose waits for the first Close to finish, or for ctx.
func (s *Sender) waitClose(ctx context.Context) error {
	select {
	case <-s.closeFinished:
		return s.closeErr
	case <-ctx.Done():
		return s.undeliveredError("Close", ctx.Err())
	}
}

// undeliveredError reports a deadline with the events still pending.
func (s *Sender) undeliveredError(op string, err error) error {
	return fmt.Errorf("usage: %s: %d events not yet delivered: %w", op, s.Stats().Pending, err)
}
