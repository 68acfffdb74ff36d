package gunzip

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
)

const (
	// DefaultMaxRatio and DefaultAllowance bound the decoded size of a body:
	// decoding stops once the decoded bytes exceed DefaultAllowance plus
	// DefaultMaxRatio times the compressed bytes consumed.
	//
	// NOTE: 256:1 is an estimate of what no real JSON or SSE body reaches on
	// average. Bodies that decode to 1 MiB or less are never stopped.
	DefaultMaxRatio  = 256
	DefaultAllowance = 1 << 20

	// readSize is the largest piece of decoded output passed to the
	// destination in one call.
	readSize = 16 << 10
)

var (
	// ErrTooLarge means the decoded body outgrew the bound set by
	// WithLimit, so decoding stopped as for a decompression bomb.
	ErrTooLarge = errors.New("gunzip: decoded body exceeds the size limit")

	// ErrClosed means Write was called after Close or Abort.
	ErrClosed = errors.New("gunzip: Write called after Close or Abort")

	// errAborted is what the goroutine's source returns after Abort.
	errAborted = errors.New("gunzip: decoding aborted")
)

// Option configures a Writer.
type Option func(*Writer)

// WithLimit sets the decompression-bomb bound: decoding stops with
// ErrTooLarge once the decoded bytes exceed allowance plus ratio times the
// compressed bytes consumed. A ratio or allowance below zero counts as zero.
func WithLimit(ratio, allowance int64) Option {
	return func(w *Writer) {
		w.maxRatio = max(ratio, 0)
		w.allowance = max(allowance, 0)
	}
}

// Writer decompresses the gzip bytes written to it and writes the result to
// its destination. It accepts several gzip members in a row, as
// compress/gzip does.
//
// The destination is called only while Write, Close or Abort runs, from the
// Writer's goroutine, so it needs no locking against the caller. A Writer is
// not safe for concurrent use. It does not retain the slices passed to Write.
// Every Writer that received bytes must be ended with Close or Abort, which
// stop its goroutine.
type Writer struct {
	dst       io.Writer
	maxRatio  int64
	allowance int64

	in   chan []byte   // slices from Write to the goroutine
	ack  chan struct{} // the goroutine consumed the last slice
	done chan struct{} // closed when the goroutine exits

	started bool
	closed  bool
	stopped bool // the goroutine exited before Close or Abort

	// endErr is the error the source returns once in is closed: io.EOF
	// from Close, errAborted from Abort. It is written before in is closed.
	endErr error

	// Owned by the goroutine until done is closed.
	pending  []byte // rest of the slice being consumed
	consumed int64  // compressed bytes handed to compress/gzip
	decoded  int64  // decoded bytes written to dst
	err      error
}

// NewWriter returns a Writer that writes the decompressed body to dst, which
// must not be nil. The goroutine starts with the first non-empty Write.
func NewWriter(dst io.Writer, opts ...Option) *Writer {
	w := &Writer{
		dst:       dst,
		maxRatio:  DefaultMaxRatio,
		allowance: DefaultAllowance,
	}
	for _, opt := range opts {
		opt(w)
	}
	return w
}

// Write decompresses p and, before it returns, writes to the destination
// every byte that compress/gzip can decode from the input so far. Deflate
// releases the bytes of a block at its end, at a flush, or when its 32 KiB
// window fills. Write always consumes all of p. It returns a
// non-nil error once decoding has stopped, after which it ignores its input:
// the error wraps a compress/gzip error, ErrTooLarge or the destination's
// error. After Close or Abort it returns ErrClosed.
func (w *Writer) Write(p []byte) (int, error) {
	if w.closed {
		return 0, ErrClosed
	}
	if w.stopped {
		return len(p), w.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if !w.started {
		w.start()
	}

	select {
	case w.in <- p:
	case <-w.done:
		w.stopped = true
		return len(p), w.err
	}

	select {
	case <-w.ack:
	case <-w.done:
		w.stopped = true
	}
	return len(p), w.err
}

// Close reports that the compressed body ended, writes the remaining decoded
// bytes to the destination, stops the goroutine and returns the first
// decoding error. A body that ends inside a gzip member gives an error
// wrapping io.ErrUnexpectedEOF. An empty body is not an error. Calling Close
// or Abort again returns the same error.
func (w *Writer) Close() error {
	return w.end(io.EOF)
}

// Abort stops decoding without expecting the rest of the body, as when the
// caller closed the body early, and waits for the goroutine to exit. It
// returns the first decoding error seen before it, or nil.
func (w *Writer) Abort() error {
	return w.end(errAborted)
}

// Err returns the error that stopped decoding, or nil. Call it only after
// Write returned or the Writer was ended.
func (w *Writer) Err() error {
	return w.err
}

// Decoded returns the number of decoded bytes written to the destination.
// Call it only after Write returned or the Writer was ended.
func (w *Writer) Decoded() int64 {
	return w.decoded
}

func (w *Writer) start() {
	w.started = true
	w.in = make(chan []byte)
	w.ack = make(chan struct{})
	w.done = make(chan struct{})
	go w.run()
}

func (w *Writer) end(endErr error) error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if !w.started {
		return nil
	}

	w.endErr = endErr
	close(w.in)
	<-w.done

	return w.err
}

// run decodes until the body ends or decoding fails.
func (w *Writer) run() {
	defer close(w.done)

	err := w.decode()
	w.pending = nil
	if errors.Is(err, errAborted) {
		err = nil
	}
	w.err = err
}

func (w *Writer) decode() error {
	src := &source{w: w}
	zr, err := gzip.NewReader(src)
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return w.wrap(err)
	}

	buf := make([]byte, readSize)
	for {
		// With multistream reading on, compress/gzip would wait for the
		// next member's header before returning the last bytes of this
		// member, so members are read one at a time.
		zr.Multistream(false)
		if err := w.copyMember(zr, buf); err != nil {
			return err
		}

		err := zr.Reset(src)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return w.wrap(err)
		}
	}
}

// copyMember writes the decoded bytes of one gzip member to the destination.
func (w *Writer) copyMember(zr *gzip.Reader, buf []byte) error {
	for {
		n, err := zr.Read(buf)
		if n > 0 {
			decoded := w.decoded + int64(n)
			if limit := w.allowance + w.maxRatio*w.consumed; decoded > limit {
				return fmt.Errorf("%w: %d decoded bytes from %d compressed bytes exceed %d + %d:1, so decoding stopped; raise the limit with WithLimit if such bodies are expected",
					ErrTooLarge, decoded, w.consumed, w.allowance, w.maxRatio)
			}
			if _, err := w.dst.Write(buf[:n]); err != nil {
				return fmt.Errorf("gunzip: writing %d decoded bytes failed: %w", n, err)
			}
			w.decoded = decoded
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return w.wrap(err)
		}
	}
}

// wrap adds the package name and the position in the body to an error from
// compress/gzip.
func (w *Writer) wrap(err error) error {
	if errors.Is(err, errAborted) {
		return err
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("gunzip: the body ended inside a gzip member after %d compressed bytes: %w", w.consumed, err)
	}
	return fmt.Errorf("gunzip: decoding failed after %d compressed bytes, so the body is corrupt or not gzip: %w", w.consumed, err)
}

// source is the io.Reader that compress/gzip pulls from, fed by Write. It
// implements io.ByteReader, so compress/gzip reads from it directly with no
// buffer of its own and consumes no byte past the end of a member.
type source struct {
	w        *Writer
	received bool // a slice was received and not yet acknowledged
}

// Read returns bytes of the slice that Write handed over.
func (s *source) Read(b []byte) (int, error) {
	if err := s.fill(); err != nil {
		return 0, err
	}

	w := s.w
	n := copy(b, w.pending)
	s.advance(n)
	return n, nil
}

// ReadByte returns the next byte of the slice that Write handed over.
func (s *source) ReadByte() (byte, error) {
	if err := s.fill(); err != nil {
		return 0, err
	}

	c := s.w.pending[0]
	s.advance(1)
	return c, nil
}

// fill waits for the next slice from Write once the current one is used up,
// after acknowledging it so that Write returns. It returns the end error
// once Close or Abort closed the channel.
func (s *source) fill() error {
	w := s.w
	for len(w.pending) == 0 {
		if s.received {
			s.received = false
			w.ack <- struct{}{}
		}

		p, ok := <-w.in
		if !ok {
			return w.endErr
		}
		w.pending = p
		s.received = true
	}
	return nil
}

func (s *source) advance(n int) {
	w := s.w
	w.pending = w.pending[n:]
	if len(w.pending) == 0 {
		w.pending = nil // keep no reference to the caller's slice
	}
	w.consumed += int64(n)
}
