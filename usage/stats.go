package usage

import (
	"expvar"
	"sync/atomic"
)

// Stats is a snapshot of a [Sender]'s counters. Every count is in events,
// where a folded total counts as the number of events it replaces (its
// Count), so Recorded = Sent + Failed + Dropped.Total() + Pending at any
// moment the Sender is idle.
type Stats struct {
	// Recorded counts the events passed to Record, dropped ones included.
	Recorded int64 `json:"recorded"`

	// Queued is the number of events waiting in the queue now. An event
	// counts as its Count here too, so Queued can pass the queue's capacity
	// in events when events carry a Count above 1.
	Queued int64 `json:"queued"`

	// Folded counts the events that were added to a folded total because
	// the queue shard they used was full.
	Folded int64 `json:"folded"`

	// Sent counts the events the sink accepted.
	Sent int64 `json:"sent"`

	// Retried counts the events sent again after a failed attempt.
	Retried int64 `json:"retried"`

	// Failed counts the events the sink rejected with a permanent error, or
	// that still failed after the last attempt or at the batch deadline.
	Failed int64 `json:"failed"`

	// Dropped counts the events that were never offered to the sink, by
	// reason.
	Dropped DropCounts `json:"dropped"`

	// Pending is the number of accepted events not yet sent, failed or
	// dropped: queued, folded or in a batch being delivered.
	Pending int64 `json:"pending"`
}

// DropCounts counts dropped events by reason.
type DropCounts struct {
	// Closed counts events recorded after Close started.
	Closed int64 `json:"closed"`

	// FoldKeysFull counts events that found their queue shard full, every
	// folded-total slot held by another key and no other shard with room.
	FoldKeysFull int64 `json:"fold_keys_full"`

	// FoldCollision counts events whose token hashed to the slot of another
	// token with the same workspace, product and model. Folding them would
	// mix two credentials, so they are dropped instead.
	FoldCollision int64 `json:"fold_collision"`

	// Shutdown counts events still queued or folded when the deadline of
	// Close passed.
	Shutdown int64 `json:"shutdown"`

	// NoSink counts events recorded by a Sender built with a nil sink.
	NoSink int64 `json:"no_sink"`
}

// Total returns the sum of all drop reasons.
func (d DropCounts) Total() int64 {
	return d.Closed + d.FoldKeysFull + d.FoldCollision + d.Shutdown + d.NoSink
}

// senderCounters holds the counters that the workers and the drop paths
// update. The counters of the Record fast path are plain fields of each
// queue shard, updated under its lock, so that Record does no atomic
// increment and concurrent Records do not contend on one cache line.
type senderCounters struct {
	sent          atomic.Int64
	retried       atomic.Int64
	failed        atomic.Int64
	closed        atomic.Int64
	foldKeysFull  atomic.Int64
	foldCollision atomic.Int64
	shutdown      atomic.Int64
	noSink        atomic.Int64
}

// Stats returns a snapshot of the counters. It is safe to call at any time
// from any goroutine, also after Close, and returns zero counts for a nil
// *Sender. It takes each queue shard's lock in turn, for as long as Record
// holds it. The counts are read one by one, so a snapshot taken while events
// flow may be off by the events in flight.
func (s *Sender) Stats() Stats {
	var st Stats
	if s == nil {
		return st
	}

	// The outcome counters are read before the queue's, so every event
	// counted as sent, failed or dropped is also counted as recorded, and
	// Pending is never negative.
	c := &s.counters
	st.Sent = c.sent.Load()
	st.Retried = c.retried.Load()
	st.Failed = c.failed.Load()
	st.Dropped = DropCounts{
		Closed:        c.closed.Load(),
		FoldKeysFull:  c.foldKeysFull.Load(),
		FoldCollision: c.foldCollision.Load(),
		Shutdown:      c.shutdown.Load(),
		NoSink:        c.noSink.Load(),
	}

	st.Folded = s.fold.folded.Load()
	var enqueued int64
	for i := range s.queue.shards {
		shardEnqueued, shardDequeued, shardFolded := s.queue.shards[i].counts()
		enqueued += shardEnqueued
		st.Queued += shardEnqueued - shardDequeued
		st.Folded += shardFolded
	}

	// Shutdown drops happen after an event was enqueued or folded, so they
	// are not a separate outcome of Record.
	dropped := st.Dropped.Total()
	st.Recorded = enqueued + st.Folded + dropped - st.Dropped.Shutdown
	st.Pending = st.Recorded - st.Sent - st.Failed - dropped
	return st
}

// Var returns an [expvar.Var] whose String is the JSON form of [Sender.Stats]
// at the time it is read. Nothing is registered: publish it with
// expvar.Publish(name, sender.Var()) if the process wants it under /debug/vars.
func (s *Sender) Var() expvar.Var {
	return expvar.Func(func() any { return s.Stats() })
}
