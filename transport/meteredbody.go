package transport

import (
	"errors"
	"io"
	"sync"

	"github.com/httpmeter/httpmeter/internal/eventid"
	"github.com/httpmeter/httpmeter/usage"
)

// meteredBody wraps a response body, feeds the extractor every byte Read
// returns, and records one event when the body first reaches io.EOF or is
// first closed. net/http allows Close to run concurrently with Read, so the
// underlying Read runs without the lock, which lets a Close interrupt it.
// Only the extractor, which is nil once the event is recorded, is guarded
// by mu.
//
// meteredBody does not implement io.WriterTo even when the underlying body
// does, because a delegated WriteTo would move the bytes without Read and
// so without metering. io.Copy then falls back to Read.
type meteredBody struct {
	body      io.ReadCloser
	transport *UsageTransport

	mu        sync.Mutex
	extractor *usage.Extractor // nil once the event is recorded
	event     usage.Event
}

func newMeteredBody(body io.ReadCloser, extractor *usage.Extractor, event usage.Event, t *UsageTransport) *meteredBody {
	return &meteredBody{body: body, transport: t, extractor: extractor, event: event}
}

// Read reads from the underlying body and feeds the bytes it returns to the
// extractor. On the first io.EOF it records the event.
func (b *meteredBody) Read(p []byte) (int, error) {
	n, err := b.body.Read(p)

	b.mu.Lock()
	if b.extractor == nil {
		b.mu.Unlock()
		return n, err
	}
	if n > 0 {
		_, _ = b.extractor.Write(p[:n])
	}
	if !errors.Is(err, io.EOF) {
		b.mu.Unlock()
		return n, err
	}
	event := b.finishLocked(true)
	b.mu.Unlock()

	b.transport.recorder.Record(event)
	return n, err
}

// Close records the event if Read has not reached io.EOF yet, marking it
// incomplete, and then closes the underlying body.
func (b *meteredBody) Close() error {
	b.mu.Lock()
	if b.extractor == nil {
		b.mu.Unlock()
		return b.body.Close()
	}
	event := b.finishLocked(false)
	b.mu.Unlock()

	b.transport.recorder.Record(event)
	return b.body.Close()
}

// finishLocked ends extraction and returns the completed event. The caller
// holds mu and calls Record only after releasing it, so a slow Recorder
// never holds up a concurrent Close.
func (b *meteredBody) finishLocked(reachedEOF bool) usage.Event {
	result := b.extractor.Finish(reachedEOF)
	b.extractor = nil

	event := b.event
	event.ID = eventid.New()
	event.Duration = b.transport.now().Sub(event.Time)
	event.Provider = result.Provider
	event.Model = result.Model
	event.Warnings = result.Warnings
	event.Complete = result.Complete
	event.Source = usage.SourceMissing
	if result.Found {
		event.Usage = result.Usage
		event.Source = usage.SourceReported
	}
	return event
}
