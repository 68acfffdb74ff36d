package usage

import (
	"hash/maphash"
	"math"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/httpmeter/httpmeter/product"
)

// foldKey identifies one folded total. The token enters it only as a hash
// (with a seed private to the Sender), so a key can be printed or compared
// without revealing the token. The usage source is part of the key so that a
// total of reported counts never absorbs responses whose counts are unknown.
type foldKey struct {
	tokenHash uint64
	workspace string
	product   product.Product
	model     string
	source    Source
}

// foldResult is the outcome of foldTable.add.
type foldResult int

const (
	folded foldResult = iota
	foldKeysFull
	foldCollision
	foldClosed
)

// foldTable holds the totals of events that found their queue shard full and
// its own total holding another key.
// Its slots are preallocated, so adding to an existing total allocates
// nothing; only the map may grow when a new key arrives.
type foldTable struct {
	mu     sync.Mutex
	seed   maphash.Seed
	index  map[foldKey]int
	totals []Event

	// size is the number of totals, readable without the lock so that
	// workers skip the lock when nothing is folded.
	size atomic.Int64

	// folded counts the events added to totals. It is incremented under mu,
	// before a worker can take the total and count it as sent.
	folded atomic.Int64
}

func newFoldTable(maxKeys int) foldTable {
	return foldTable{
		seed:   maphash.MakeSeed(),
		index:  make(map[foldKey]int, maxKeys),
		totals: make([]Event, 0, maxKeys),
	}
}

// add folds *e into the total for its key. It rejects the event when closed
// is set, when the key is new and every slot is taken, or when the slot of
// its key holds a different token (a hash collision).
func (t *foldTable) add(e *Event, closed *atomic.Bool) foldResult {
	key := foldKey{
		tokenHash: maphash.String(t.seed, e.Credential.Token),
		workspace: e.Credential.Host,
		product:   e.Product,
		model:     e.Model,
		source:    e.Source,
	}

	t.mu.Lock()
	defer t.mu.Unlock()

	if closed.Load() {
		return foldClosed
	}

	i, ok := t.index[key]
	if !ok {
		if len(t.totals) == cap(t.totals) {
			return foldKeysFull
		}
		t.index[key] = len(t.totals)
		t.totals = append(t.totals, foldedCopy(e))
		t.size.Store(int64(len(t.totals)))
		t.folded.Add(int64(e.Count))
		return folded
	}

	total := &t.totals[i]
	if total.Credential.Token != e.Credential.Token {
		return foldCollision
	}
	mergeInto(total, e)
	t.folded.Add(int64(e.Count))
	return folded
}

// take moves every total to dst, gives each a fresh ID and empties the
// table.
func (t *foldTable) take(dst []Event) []Event {
	if t.size.Load() == 0 {
		return dst
	}

	t.mu.Lock()
	start := len(dst)
	dst = append(dst, t.totals...)
	clear(t.totals)
	t.totals = t.totals[:0]
	clear(t.index)
	t.size.Store(0)
	t.mu.Unlock()

	for i := start; i < len(dst); i++ {
		dst[i].ID = newFoldID()
	}
	return dst
}

// barrier holds and releases the lock once. After it returns, every add that
// started before it has finished.
func (t *foldTable) barrier() {
	t.mu.Lock()
	//lint:ignore SA2001 an empty critical section is the point
	t.mu.Unlock()
}

// sameFoldKey reports whether e folds into total: the same token, workspace,
// product, model and usage source.
func sameFoldKey(total, e *Event) bool {
	return sameString(total.Credential.Token, e.Credential.Token) &&
		sameString(total.Credential.Host, e.Credential.Host) &&
		total.Product == e.Product &&
		sameString(total.Model, e.Model) &&
		total.Source == e.Source
}

// sameString reports whether a and b are equal. Strings that share memory,
// the common case for the events of one caller, compare without a call into
// the runtime.
func sameString(a, b string) bool {
	return len(a) == len(b) && (unsafe.StringData(a) == unsafe.StringData(b) || a == b)
}

// foldedCopy starts a total from one event. Raw and Warnings describe a single
// response, so a total carries neither.
func foldedCopy(e *Event) Event {
	total := *e
	total.ID = ""
	total.Usage.Raw = nil
	total.Warnings = nil
	return total
}

// mergeInto adds e to total. Counts and durations are summed, the time is the
// earliest, Complete holds only when every response was complete, and a
// request field that differs between the responses is cleared.
func mergeInto(total *Event, e *Event) {
	addUsage(&total.Usage, &e.Usage)
	total.Count = addSaturatingInt(total.Count, e.Count)
	total.Duration += e.Duration
	total.Complete = total.Complete && e.Complete
	if e.Time.Before(total.Time) {
		total.Time = e.Time
	}

	if !sameString(total.Method, e.Method) {
		total.Method = ""
	}
	if !sameString(total.Host, e.Host) {
		total.Host = ""
	}
	if !sameString(total.Path, e.Path) {
		total.Path = ""
	}
	if !sameString(total.Provider, e.Provider) {
		total.Provider = ""
	}
	if total.Status != e.Status {
		total.Status = 0
	}
}

// addSaturatingInt returns a + b for counts a, b >= 0, or math.MaxInt when
// the sum would overflow.
func addSaturatingInt(a, b int) int {
	if b > math.MaxInt-a {
		return math.MaxInt
	}
	return a + b
}

// addUsage adds the counts of v to u in place, saturating like [Usage.Add]
// without copying either value.
func addUsage(u, v *Usage) {
	u.InputTokens = addSaturating(u.InputTokens, v.InputTokens)
	u.OutputTokens = addSaturating(u.OutputTokens, v.OutputTokens)
	u.TotalTokens = addSaturating(u.TotalTokens, v.TotalTokens)
	u.CachedInputTokens = addSaturating(u.CachedInputTokens, v.CachedInputTokens)
	u.CacheCreationInputTokens = addSaturating(u.CacheCreationInputTokens, v.CacheCreationInputTokens)
	u.ReasoningTokens = addSaturating(u.ReasoningTokens, v.ReasoningTokens)
}
