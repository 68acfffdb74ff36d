package usage

import (
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

// eventQueue is the bounded queue between Record and the workers. It is split
// into shards, each a preallocated ring of Events behind its own mutex.
//
// Record takes its shard from a sync.Pool. The pool keeps a private item per
// P, so the goroutines running on one P keep using the same shard, and that
// shard's lock, counters and ring stay in the cache of the core that runs the
// P (per-P affinity). Under parallel load, a random shard per call would
// instead move those cache lines between cores on most calls. The pool holds only pointers to
// shards that the queue owns, never events. When the garbage collector empties
// the pool, nothing queued is lost, and New hands out the shards again in
// turn, which allocates nothing.
//
// NOTE: sync.Pool itself allocates on the first Get after each garbage
// collection: it rebuilds its per-P array and registers itself again. With
// go1.26.8 on 2 Ps that is 2 allocations, 264 bytes, per GC cycle, paid by
// the first Record after the collection.
type eventQueue struct {
	shards []queueShard
	homes  sync.Pool

	// nextHome is the index of the shard that the pool's New hands out next.
	nextHome atomic.Uint32
}

// queueShard is one ring of the queue. Its fields other than wake and next
// are guarded by mu.
type queueShard struct {
	mu       sync.Mutex
	head     int
	length   int
	bytes    int64
	maxBytes int64
	ring     []Event

	// sizes holds the eventSize of each event in ring, at the same index,
	// so the worker need not compute it again.
	sizes []int64

	// enqueued, dequeued and folded count events (a folded total counts as
	// its Count). They are plain fields under mu, so Record does not pay for
	// an atomic increment, and Stats reads them under the same lock.
	enqueued int64
	dequeued int64
	folded   int64

	// wakeAt is the length at which Record wakes the owning worker, and
	// woken is set once Record or the worker itself has signalled wake for
	// the events now in the shard. The worker sets both after each collect,
	// in senderWorker.arm.
	wakeAt int
	woken  bool
	wake   chan struct{}

	// next is the shard that a P moves on to when this one fills up, so one
	// producer can use the whole queue. The shards form one cycle, which
	// eventQueue.lock and eventQueue.push also follow to find another shard.
	next *queueShard

	// overflow is a folded total of events that found the ring full, kept
	// in the shard so that a burst of one key folds under the shard lock
	// alone. It is valid when hasOverflow is set. Events of another key go
	// to the Sender's fold table.
	overflow    Event
	hasOverflow bool

	// The padding keeps the fields of neighbouring shards off each other's
	// cache lines.
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

// init splits maxEvents and maxBytes over a number of shards that grows with
// GOMAXPROCS. Every shard holds at least one event. The queue must not move
// after init, because the pool's New refers to it.
func (q *eventQueue) init(maxEvents int, maxBytes int64) {
	n := min(4*runtime.GOMAXPROCS(0), maxEvents)
	q.shards = make([]queueShard, n)
	for i := range q.shards {
		capacity := maxEvents / n
		if i < maxEvents%n {
			capacity++
		}
		sh := &q.shards[i]
		sh.ring = make([]Event, capacity)
		sh.sizes = make([]int64, capacity)
		sh.maxBytes = max(maxBytes/int64(n), 1)
		sh.wakeAt = 1
		sh.next = &q.shards[(i+1)%n]
	}
	q.homes.New = func() any { return q.handOut() }
}

// handOut returns the shards in turn, so that Ps which find the pool empty
// start on different shards.
func (q *eventQueue) handOut() *queueShard {
	i := q.nextHome.Add(1) - 1
	return &q.shards[i%uint32(len(q.shards))]
}

// push offers *e to the shard of the calling P and, when that shard is full
// and its overflow total holds another key, to the next shard. It returns the
// outcome and the last shard it tried.
func (q *eventQueue) push(e *Event, closed *atomic.Bool) (pushResult, *queueShard) {
	sh := q.lock(q.homes.Get().(*queueShard))
	result, next := sh.push(e, closed)
	if result == pushFull {
		sh = q.lock(sh.next)
		result, next = sh.push(e, closed)
	}

	q.homes.Put(next)
	return result, sh
}

// lock locks the first shard it can lock without waiting, starting at start
// and following next. Only when every shard is locked does it wait for
// start, which holds its lock for one push or one drain.
func (q *eventQueue) lock(start *queueShard) *queueShard {
	sh := start
	for range len(q.shards) {
		if sh.mu.TryLock() {
			return sh
		}
		sh = sh.next
	}
	start.mu.Lock()
	return start
}

// push copies *e into the ring unless the ring is full in events or bytes, or
// closed is set. When the ring is full, it adds *e to the shard's overflow
// total if that is empty or has the key of *e. The caller holds sh.mu, and
// push releases it. closed is read under the lock, so once Close has held
// every shard lock after setting it, no event can enter the queue.
//
// push returns the shard that the calling P should use next: sh itself, or
// sh.next when this event filled the ring.
func (sh *queueShard) push(e *Event, closed *atomic.Bool) (pushResult, *queueShard) {
	if closed.Load() {
		sh.mu.Unlock()
		return pushClosed, sh
	}

	// The size is only needed when the ring has room, so the overload path
	// skips computing it.
	var size int64
	if sh.length < len(sh.ring) {
		size = eventSize(e)
	}
	if sh.length == len(sh.ring) || (sh.bytes+size > sh.maxBytes && sh.length > 0) || size > sh.maxBytes {
		result := sh.foldOverflow(e)
		if result == pushFolded {
			sh.folded += int64(e.Count)
		}

		// A full shard needs the worker whatever its wakeAt.
		wake := !sh.woken
		sh.woken = true
		sh.mu.Unlock()

		if wake {
			notify(sh.wake)
		}
		return result, sh
	}

	tail := sh.head + sh.length
	if tail >= len(sh.ring) {
		tail -= len(sh.ring)
	}
	sh.ring[tail] = *e
	sh.sizes[tail] = size
	sh.length++
	sh.bytes += size
	sh.enqueued += int64(e.Count)

	wake := !sh.woken && sh.length >= sh.wakeAt
	if wake {
		sh.woken = true
	}
	next := sh
	if sh.length == len(sh.ring) {
		next = sh.next
	}
	sh.mu.Unlock()

	if wake {
		notify(sh.wake)
	}
	return pushed, next
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

// drain moves every event in the ring to dst and its size to sizes, and
// clears the slots, so the ring keeps no references to delivered strings. It
// then moves the overflow total, with a fresh ID, to dst.
func (sh *queueShard) drain(dst []Event, sizes []int64) ([]Event, []int64) {
	sh.mu.Lock()
	for range sh.length {
		e := &sh.ring[sh.head]
		sh.dequeued += int64(e.Count)
		dst = append(dst, *e)
		sizes = append(sizes, sh.sizes[sh.head])
		*e = Event{}
		sh.head++
		if sh.head == len(sh.ring) {
			sh.head = 0
		}
	}
	sh.length = 0
	sh.bytes = 0

	hasOverflow := sh.hasOverflow
	if hasOverflow {
		dst = append(dst, sh.overflow)
		sh.overflow = Event{}
		sh.hasOverflow = false
	}
	sh.mu.Unlock()

	if hasOverflow {
		total := &dst[len(dst)-1]
		total.ID = newFoldID()
		sizes = append(sizes, eventSize(total))
	}
	return dst, sizes
}

// arm sets the length at which Record wakes the worker, capped at the ring
// size. It reports whether the shard already needs the worker again: it
// holds that many events, or an overflow total because it filled up since
// the last drain.
func (sh *queueShard) arm(wakeAt int) bool {
	sh.mu.Lock()
	defer sh.mu.Unlock()

	sh.wakeAt = min(wakeAt, len(sh.ring))
	sh.woken = sh.length >= sh.wakeAt || sh.hasOverflow
	return sh.woken
}

// counts returns the enqueued, dequeued and folded counters.
func (sh *queueShard) counts() (enqueued, dequeued, folded int64) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.enqueued, sh.dequeued, sh.folded
}

// barrier holds and releases every shard lock once. After it returns, every
// push that started before it has finished.
func (q *eventQueue) barrier() {
	for i := range q.shards {
		q.shards[i].mu.Lock()
		//lint:ignore SA2001 an empty critical section is the point
		q.shards[i].mu.Unlock()
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
