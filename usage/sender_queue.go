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

	// spareBytes is the part of the byte bound that no shard owns. A shard
	// whose own share cannot hold an event borrows the event's size from it
	// and gives the borrowed bytes back when a worker drains it. One event
	// can thus take up to half the bound, however many shards there are.
	spareBytes atomic.Int64
}

// queueShard is one ring of the queue. Its fields other than wake, next,
// queue and full are guarded by mu.
type queueShard struct {
	mu     sync.Mutex
	head   int
	length int
	ring   []Event

	// bytes sums the sizes of the queued events charged to the shard's own
	// share, maxBytes, and borrowed those charged to the queue's spareBytes.
	bytes    int64
	maxBytes int64
	borrowed int64

	// full is set while the ring is full. It is written under mu and read
	// without it as a hint.
	full  atomic.Bool
	queue *eventQueue

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

	// pushFull means the ring was full and its overflow total held another
	// key.
	pushFull

	// pushNoRoom means the ring was full and the caller did not allow
	// folding.
	pushNoRoom
	pushClosed
)

// init splits maxEvents over a number of shards that grows with GOMAXPROCS,
// and half of maxBytes, so that the other half stays spare for events that
// do not fit in one shard's share. Every shard holds at least one event. The
// queue must not move after init, because the pool's New and the shards
// refer to it.
func (q *eventQueue) init(maxEvents int, maxBytes int64) {
	n := min(4*runtime.GOMAXPROCS(0), maxEvents)
	share := maxBytes / 2 / int64(n)
	q.shards = make([]queueShard, n)
	for i := range q.shards {
		capacity := maxEvents / n
		if i < maxEvents%n {
			capacity++
		}
		sh := &q.shards[i]
		sh.ring = make([]Event, capacity)
		sh.sizes = make([]int64, capacity)
		sh.maxBytes = share
		sh.wakeAt = 1
		sh.next = &q.shards[(i+1)%n]
		sh.queue = q
	}
	q.spareBytes.Store(maxBytes - share*int64(n))
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
	result, next := sh.push(e, closed, true)
	if result == pushFull {
		sh = q.lock(sh.next)
		result, next = sh.push(e, closed, true)
	}

	q.homes.Put(next)
	return result, sh
}

// pushAnywhere queues *e in the first shard whose ring has room, without
// folding. Record calls it only for an event that no folded total could
// take, so that the event is dropped only when the whole queue is full. It
// locks the shards in turn, skipping those that were full when it looked.
func (q *eventQueue) pushAnywhere(e *Event, closed *atomic.Bool) pushResult {
	for i := range q.shards {
		sh := &q.shards[i]
		if sh.full.Load() {
			continue
		}
		sh.mu.Lock()
		if result, _ := sh.push(e, closed, false); result != pushNoRoom {
			return result
		}
	}
	return pushNoRoom
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

// push copies *e into the ring unless the ring is full, *e does not fit in
// the bytes left, or closed is set. The shard's own share of the byte bound
// comes first, then bytes borrowed from the queue's spare ones. Without
// room, push adds *e to the shard's overflow total if mayFold is set and the
// total is empty or has the key of *e, else it returns pushNoRoom or
// pushFull. The caller holds sh.mu, and push releases it. closed is read
// under the lock, so once Close has held every shard lock after setting it,
// no event can enter the queue.
//
// push returns the shard that the calling P should use next: sh itself, or
// sh.next when this event filled the ring.
func (sh *queueShard) push(e *Event, closed *atomic.Bool, mayFold bool) (pushResult, *queueShard) {
	if closed.Load() {
		sh.mu.Unlock()
		return pushClosed, sh
	}

	if sh.length < len(sh.ring) {
		size := eventSize(e)
		if sh.bytes+size <= sh.maxBytes {
			sh.bytes += size
			return sh.append(e, size)
		}
		if sh.queue.borrowBytes(size) {
			sh.borrowed += size
			return sh.append(e, size)
		}
	}

	if !mayFold {
		sh.mu.Unlock()
		return pushNoRoom, sh
	}

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

// append adds *e, of the given size, at the tail of the ring, releases the
// lock and wakes the worker when the shard reached its wake threshold. The
// caller holds sh.mu, has checked that the ring has room and has counted
// size in bytes or borrowed. Like push, it returns the shard that the P
// should use next.
func (sh *queueShard) append(e *Event, size int64) (pushResult, *queueShard) {
	tail := sh.head + sh.length
	if tail >= len(sh.ring) {
		tail -= len(sh.ring)
	}
	sh.ring[tail] = *e
	sh.sizes[tail] = size
	sh.length++
	sh.enqueued += int64(e.Count)

	next := sh
	if sh.length == len(sh.ring) {
		sh.full.Store(true)
		next = sh.next
	}

	wake := !sh.woken && sh.length >= sh.wakeAt
	if wake {
		sh.woken = true
	}
	sh.mu.Unlock()

	if wake {
		notify(sh.wake)
	}
	return pushed, next
}

// borrowBytes takes size bytes from the spare ones and reports whether there
// were enough.
func (q *eventQueue) borrowBytes(size int64) bool {
	for {
		spare := q.spareBytes.Load()
		if spare < size {
			return false
		}
		if q.spareBytes.CompareAndSwap(spare, spare-size) {
			return true
		}
	}
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
	if sh.borrowed > 0 {
		sh.queue.spareBytes.Add(sh.borrowed)
		sh.borrowed = 0
	}
	if sh.full.Load() {
		sh.full.Store(false)
	}

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
