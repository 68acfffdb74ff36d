package usage

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

// eventQueue is the bounded queue between Record and the workers. It is split
// into shards, each a preallocated ring of Events behind its own mutex, so
// that concurrent Records rarely meet on one lock or one cache line. Record
// picks a shard at random and tries a second one when the first is full.
type eventQueue struct {
	shards []queueShard
}

// queueShard is one ring of the queue. The padding keeps neighbouring
// shards on separate cache lines.
type queueShard struct {
	mu       sync.Mutex
	ring     []Event
	head     int
	length   int
	bytes    int64
	maxBytes int64

	// wakeAt is the length at which Record wakes the owning worker: its
	// share of one batch, so that the worker's shards together hold about a
	// full batch and it is sent without waiting for the batch interval.
	wakeAt int
	wake   chan struct{}

	// overflow is a folded total of events that found the ring full, kept
	// in the shard so that a burst of one key folds under the shard lock
	// alone. It is valid when hasOverflow is set. Events of another key go
	// to the Sender's fold table.
	overflow    Event
	hasOverflow bool

	// enqueued, dequeued and folded are counted per shard so that Stats can
	// read them at any time without a shared hot counter.
	enqueued atomic.Int64
	dequeued atomic.Int64
	folded   atomic.Int64

	_ [64]byte
}

// pushResult is the outcome of queueShard.push.
type pushResult int

const (
	pushed pushResult = iota
	pushFolded
	pushFull
	pushClosed
)

// newEventQueue splits maxEvents and maxBytes over a number of shards that
// grows with GOMAXPROCS. Every shard holds at least one event. Shard i
// belongs to worker i % workers.
func newEventQueue(maxEvents int, maxBytes int64, batchSize, workers int) eventQueue {
	n := min(4*runtime.GOMAXPROCS(0), maxEvents)
	q := eventQueue{shards: make([]queueShard, n)}
	shardsPerWorker := max(n/workers, 1)
	for i := range q.shards {
		capacity := maxEvents / n
		if i < maxEvents%n {
			capacity++
		}
		sh := &q.shards[i]
		sh.ring = make([]Event, capacity)
		sh.maxBytes = max(maxBytes/int64(n), 1)
		sh.wakeAt = max(min(batchSize/shardsPerWorker, capacity), 1)
	}
	return q
}

// pick returns a shard chosen at random. The runtime's per-thread generator
// behind math/rand/v2 needs no lock.
func (q *eventQueue) pick() *queueShard {
	return &q.shards[rand.Uint32N(uint32(len(q.shards)))]
}

// push copies *e into the ring unless the ring is full in events or bytes, or
// closed is set. When the ring is full, it adds *e to the shard's overflow
// total if that is empty or has the key of *e. closed is read under the
// shard lock, so once Close has held every shard lock after setting it, no
// event can enter the queue.
func (sh *queueShard) push(e *Event, closed *atomic.Bool) pushResult {
	sh.mu.Lock()
	if closed.Load() {
		sh.mu.Unlock()
		return pushClosed
	}

	// The size is only needed when the ring has room, so the overload path
	// skips computing it.
	var size int64
	if sh.length < len(sh.ring) {
		size = eventSize(e)
	}
	if sh.length == len(sh.ring) || (sh.bytes+size > sh.maxBytes && sh.length > 0) || size > sh.maxBytes {
		result := sh.foldOverflow(e)
		sh.mu.Unlock()

		if result == pushFolded {
			sh.folded.Add(int64(e.Count))
		}
		return result
	}

	tail := sh.head + sh.length
	if tail >= len(sh.ring) {
		tail -= len(sh.ring)
	}
	sh.ring[tail] = *e
	sh.length++
	sh.bytes += size
	length := sh.length
	sh.mu.Unlock()

	sh.enqueued.Add(int64(e.Count))
	if length == sh.wakeAt {
		notify(sh.wake)
	}
	return pushed
}

// foldOverflow adds *e to the overflow total when the total is empty or has
// the same key. The caller holds the shard lock.
func (sh *queueShard) foldOverflow(e *Event) pushResult {
	if !sh.hasOverflow {
		sh.overflow = foldedCopy(e)
		sh.hasOverflow = true
		return pushFolded
	}
	if !sameFoldKey(&sh.overflow, e) {
		return pushFull
	}
	mergeInto(&sh.overflow, e)
	return pushFolded
}

// drain moves up to limit events from the ring to dst and clears their
// slots, so the ring keeps no references to delivered strings. It then
// moves the overflow total, with a fresh ID, to dst.
func (sh *queueShard) drain(dst []Event, limit int) []Event {
	sh.mu.Lock()
	if sh.hasOverflow {
		dst = append(dst, sh.overflow)
		sh.overflow = Event{}
		sh.hasOverflow = false
		dst[len(dst)-1].ID = newFoldID()
	}

	n := min(sh.length, limit)
	var count int64
	for range n {
		e := &sh.ring[sh.head]
		count += int64(e.Count)
		sh.bytes -= eventSize(e)
		dst = append(dst, *e)
		*e = Event{}
		sh.head++
		if sh.head == len(sh.ring) {
			sh.head = 0
		}
	}
	sh.length -= n
	sh.mu.Unlock()

	sh.dequeued.Add(count)
	return dst
}

// len returns the number of events in the ring.
func (sh *queueShard) len() int {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.length
}

// barrier holds and releases every shard lock once. After it returns, every
// push that started before it has finished.
func (q *eventQueue) barrier() {
	for i := range q.shards {
		q.shards[i].mu.Lock()
		q.shards[i].mu.Unlock() //nolint:staticcheck // an empty critical section is the point
	}
}

// notify wakes the goroutine waiting on ch without blocking when it is
// already awake.
func notify(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// eventOverhead is the size of an Event value itself, before the memory its
// strings and slices point to.
const eventOverhead = int64(unsafe.Sizeof(Event{}))

// eventSize estimates the memory an event keeps alive: the Event value, its
// strings, its Raw usage and its Warnings. Strings shared with other values
// are counted in full, so this is an upper bound.
func eventSize(e *Event) int64 {
	n := eventOverhead
	n += int64(len(e.ID) + len(e.Method) + len(e.Host) + len(e.Path) + len(e.Provider) + len(e.Model) + len(e.Source))
	n += int64(len(e.Credential.Token) + len(e.Credential.Subject) + len(e.Credential.Host) + len(e.Credential.Method))

	app := e.Product.App()
	n += int64(len(app.Name()) + len(app.Version()) + len(e.Product.Feature()))
	n += int64(len(e.Usage.Raw))
	for _, w := range e.Warnings {
		n += int64(len(w)) + int64(unsafe.Sizeof(w))
	}
	return n
}
