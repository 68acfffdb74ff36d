package gunzip

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

const corpusGzip = "../../../shared/corpus/usage/anthropic-messages-stream-cache-creation.sse.gz"

// compress returns body as one gzip member.
func compress(t testing.TB, body []byte) []byte {
	t.Helper()

	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(body)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// compressFlushed compresses events with a sync flush after each, as a
// streaming server does, and returns the compressed body with the offset at
// which each event becomes decodable.
func compressFlushed(t testing.TB, events []string) ([]byte, []int) {
	t.Helper()

	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	offsets := make([]int, 0, len(events))
	for _, event := range events {
		_, err := zw.Write([]byte(event))
		require.NoError(t, err)
		require.NoError(t, zw.Flush())
		offsets = append(offsets, buf.Len())
	}
	require.NoError(t, zw.Close())
	return buf.Bytes(), offsets
}

// gunzipChunks writes chunks to a new Writer, closes it and returns the
// decoded bytes with the error of Close.
func gunzipChunks(chunks ...[]byte) ([]byte, error) {
	var out bytes.Buffer
	w := NewWriter(&out)
	for _, chunk := range chunks {
		if _, err := w.Write(chunk); err != nil {
			break
		}
	}
	err := w.Close()
	return out.Bytes(), err
}

func TestWriterCorpusEverySplit(t *testing.T) {
	compressed, err := os.ReadFile(corpusGzip)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("%s is absent: the shared usage corpus is not checked out beside the module", filepath.Base(corpusGzip))
	}
	require.NoError(t, err)

	zr, err := gzip.NewReader(bytes.NewReader(compressed))
	require.NoError(t, err)
	want, err := io.ReadAll(zr)
	require.NoError(t, err)
	require.Contains(t, string(want), `"cache_creation_input_tokens":1760`)

	for i := 0; i <= len(compressed); i++ {
		got, err := gunzipChunks(compressed[:i], compressed[i:])
		require.NoError(t, err, "split at %d", i)
		require.Equal(t, string(want), string(got), "split at %d", i)
	}
}

func TestWriterByteByByte(t *testing.T) {
	body := bytes.Repeat([]byte(`data: {"usage":{"input_tokens":3}}`+"\n\n"), 200)
	compressed := compress(t, body)

	chunks := make([][]byte, len(compressed))
	for i := range compressed {
		chunks[i] = compressed[i : i+1]
	}
	got, err := gunzipChunks(chunks...)
	require.NoError(t, err)
	assert.Equal(t, body, got)
}

func TestWriterDeliversBeforeWriteReturns(t *testing.T) {
	events := make([]string, 50)
	for i := range events {
		events[i] = fmt.Sprintf("data: {\"index\":%d,\"usage\":null}\n\n", i)
	}
	compressed, offsets := compressFlushed(t, events)

	var out bytes.Buffer
	w := NewWriter(&out)
	previous := 0
	var want string
	for i, offset := range offsets {
		n, err := w.Write(compressed[previous:offset])
		require.NoError(t, err)
		require.Equal(t, offset-previous, n)
		previous = offset

		want += events[i]
		require.Equal(t, want, out.String(), "event %d must reach the destination before Write returns", i)
	}

	_, err := w.Write(compressed[previous:])
	require.NoError(t, err)
	require.NoError(t, w.Close())
	assert.Equal(t, want, out.String())
	assert.Equal(t, int64(len(want)), w.Decoded())
}

func TestWriterMultipleMembers(t *testing.T) {
	first := compress(t, []byte("first "))
	compressed := append(append([]byte(nil), first...), compress(t, []byte("second"))...)

	got, err := gunzipChunks(compressed)
	require.NoError(t, err)
	assert.Equal(t, "first second", string(got))

	var out bytes.Buffer
	w := NewWriter(&out)
	_, err = w.Write(first)
	require.NoError(t, err)
	assert.Equal(t, "first ", out.String(), "a member's bytes reach the destination before the next member starts")
	_, err = w.Write(compressed[len(first):])
	require.NoError(t, err)
	require.NoError(t, w.Close())
	assert.Equal(t, "first second", out.String())
}

func TestWriterDeliversWholeBody(t *testing.T) {
	compressed := compress(t, []byte(`{"usage":{"prompt_tokens":1}}`))

	var out bytes.Buffer
	w := NewWriter(&out)
	_, err := w.Write(compressed)
	require.NoError(t, err)
	assert.Equal(t, `{"usage":{"prompt_tokens":1}}`, out.String(), "a complete body is decoded before Write returns")
	require.NoError(t, w.Close())
}

func TestWriterEmptyBody(t *testing.T) {
	var out bytes.Buffer
	w := NewWriter(&out)

	n, err := w.Write(nil)
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.False(t, w.started, "an empty Write must not start the goroutine")
	require.NoError(t, w.Close())
	assert.Zero(t, out.Len())
}

func TestWriterTruncatedBody(t *testing.T) {
	compressed := compress(t, bytes.Repeat([]byte("0123456789"), 1000))

	for _, cut := range []int{1, 5, 10, len(compressed) / 2, len(compressed) - 1} {
		_, err := gunzipChunks(compressed[:cut])
		require.ErrorIs(t, err, io.ErrUnexpectedEOF, "body cut at %d", cut)
		assert.Contains(t, err.Error(), "ended inside a gzip member", "body cut at %d", cut)
	}
}

func TestWriterCorruptChecksum(t *testing.T) {
	compressed := compress(t, []byte(`{"usage":{"prompt_tokens":1}}`))
	compressed[len(compressed)-8] ^= 0xff

	got, err := gunzipChunks(compressed)
	require.ErrorIs(t, err, gzip.ErrChecksum)
	assert.Contains(t, err.Error(), "gunzip: decoding failed")
	assert.Equal(t, `{"usage":{"prompt_tokens":1}}`, string(got), "bytes decoded before the trailer still reach the destination")
}

func TestWriterNotGzip(t *testing.T) {
	var out bytes.Buffer
	w := NewWriter(&out)

	_, err := w.Write([]byte(`{"usage":{"prompt_tokens":1}}`))
	require.ErrorIs(t, err, gzip.ErrHeader)

	n, err := w.Write([]byte("more"))
	assert.Equal(t, 4, n, "Write consumes its input after decoding stopped")
	assert.ErrorIs(t, err, gzip.ErrHeader)
	assert.ErrorIs(t, w.Close(), gzip.ErrHeader)
	assert.Zero(t, out.Len())
}

func TestWriterTrailingGarbage(t *testing.T) {
	compressed := append(compress(t, []byte("body")), "garbage that is not gzip"...)

	got, err := gunzipChunks(compressed)
	require.ErrorIs(t, err, gzip.ErrHeader)
	assert.Equal(t, "body", string(got))
}

func TestWriterStopsDecompressionBomb(t *testing.T) {
	compressed := compress(t, make([]byte, 16<<20))
	require.Less(t, len(compressed), 32<<10)

	var out countingWriter
	w := NewWriter(&out)
	for start := 0; start < len(compressed); start += 4096 {
		_, err := w.Write(compressed[start:min(start+4096, len(compressed))])
		if err != nil {
			break
		}
	}
	err := w.Close()
	require.ErrorIs(t, err, ErrTooLarge)
	assert.Contains(t, err.Error(), "WithLimit")

	bound := int64(DefaultAllowance) + DefaultMaxRatio*w.consumed
	assert.LessOrEqual(t, out.n, bound, "no bytes past the bound reach the destination")
	assert.Greater(t, out.n, bound-readSize, "decoding stops at the bound, not before")
	assert.Less(t, out.n, int64(16<<20))
	assert.Equal(t, out.n, w.Decoded())
}

func TestWriterLimitOption(t *testing.T) {
	body := bytes.Repeat([]byte("a"), 100_000)
	compressed := compress(t, body)

	var out bytes.Buffer
	w := NewWriter(&out, WithLimit(1, 1000))
	_, err := w.Write(compressed)
	require.ErrorIs(t, err, ErrTooLarge)
	require.ErrorIs(t, w.Close(), ErrTooLarge)

	out.Reset()
	w = NewWriter(&out, WithLimit(2000, 0))
	_, err = w.Write(compressed)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	assert.Equal(t, body, out.Bytes())
}

func TestWriterDestinationError(t *testing.T) {
	compressed := compress(t, []byte("body"))
	failure := errors.New("destination full")

	w := NewWriter(failingWriter{err: failure})
	_, err := w.Write(compressed)
	require.ErrorIs(t, err, failure)
	assert.Contains(t, err.Error(), "writing 4 decoded bytes failed")
	assert.ErrorIs(t, w.Close(), failure)
}

func TestWriterAbortMidBody(t *testing.T) {
	compressed := compress(t, bytes.Repeat([]byte("0123456789"), 10_000))

	var out bytes.Buffer
	w := NewWriter(&out)
	_, err := w.Write(compressed[:len(compressed)/2])
	require.NoError(t, err)

	require.NoError(t, w.Abort(), "an abandoned body is not a decoding error")
	require.NoError(t, w.Close(), "Close after Abort returns the same result")
	assert.NoError(t, w.Err())

	n, err := w.Write(compressed[len(compressed)/2:])
	assert.Zero(t, n)
	assert.ErrorIs(t, err, ErrClosed)
}

func TestWriterCloseWaitsForGoroutine(t *testing.T) {
	// Goroutines of earlier tests may still be on their way out, and would
	// leave the count below before+len(writers) once they exit.
	require.NoError(t, goleak.Find(), "goroutines of earlier tests did not exit")
	before := runtime.NumGoroutine()
	writers := make([]*Writer, 20)
	for i := range writers {
		writers[i] = NewWriter(io.Discard)
		_, err := writers[i].Write(compress(t, []byte("body"))[:5])
		require.NoError(t, err)
	}
	assert.GreaterOrEqual(t, runtime.NumGoroutine(), before+len(writers))

	for i, w := range writers {
		if i%2 == 0 {
			assert.ErrorIs(t, w.Close(), io.ErrUnexpectedEOF)
		} else {
			assert.NoError(t, w.Abort())
		}
	}
	// Close and Abort return once the goroutine has finished its work, but
	// the goroutine may still be exiting, so the test polls the count. It
	// does not use assert.Eventually, which adds a goroutine of its own.
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	assert.LessOrEqual(t, runtime.NumGoroutine(), before, "the decoding goroutines did not exit after Close and Abort")
}

func TestWriterWriteDoesNotAllocate(t *testing.T) {
	events := make([]string, 400)
	for i := range events {
		events[i] = fmt.Sprintf("data: {\"index\":%d}\n\n", i)
	}
	compressed, offsets := compressFlushed(t, events)

	w := NewWriter(io.Discard)
	defer w.Abort()
	_, err := w.Write(compressed[:offsets[0]])
	require.NoError(t, err)

	next := 1
	allocs := testing.AllocsPerRun(300, func() {
		if _, err := w.Write(compressed[offsets[next-1]:offsets[next]]); err != nil {
			panic(err)
		}
		next++
	})
	assert.Zero(t, allocs)
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

type failingWriter struct{ err error }

func (f failingWriter) Write([]byte) (int, error) { return 0, f.err }
