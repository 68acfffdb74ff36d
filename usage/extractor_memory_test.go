package usage

import (
	"bytes"
	"compress/gzip"
	"io"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// streamedBodySize is the size of the body that the flat-memory tests feed
// through one extractor: 100 MB, far above any buffer the extractor keeps.
const streamedBodySize = 100_000_000

// heapBound is the most the live heap may grow while the extractor reads
// streamedBodySize bytes. The extractor's own buffers take well under this.
const heapBound = 4 << 20

// heapWatch samples the live heap while a body streams through an extractor.
type heapWatch struct {
	base uint64
	peak uint64
}

func newHeapWatch() *heapWatch {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return &heapWatch{base: m.HeapAlloc, peak: m.HeapAlloc}
}

// sample records the live heap after a collection, so that garbage the
// extractor has already dropped does not count.
func (w *heapWatch) sample() {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	w.peak = max(w.peak, m.HeapAlloc)
}

func (w *heapWatch) growth() int64 {
	return int64(w.peak) - int64(w.base)
}

// sseBlock returns whole OpenAI stream chunks of about 32 KiB.
func sseBlock() []byte {
	return bytes.Repeat([]byte(sseChunk), (32<<10)/len(sseChunk))
}

func TestExtractorFlatMemory100MB(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 100 MB through the extractor; skipped with -short")
	}

	block := sseBlock()
	tail := []byte(sseUsageTail())
	x := newBenchExtractor(t, openAIChatURL, "text/event-stream", "")

	watch := newHeapWatch()
	written := 0
	for writes := 1; written < streamedBodySize; writes++ {
		n, err := x.Write(block)
		require.NoError(t, err)
		require.Equal(t, len(block), n)
		written += n
		if writes%300 == 0 {
			watch.sample()
		}
	}
	_, err := x.Write(tail)
	require.NoError(t, err)
	watch.sample()

	t.Logf("live heap grew by %d bytes over a %d-byte body", watch.growth(), written)

	r := x.Finish(true)
	require.True(t, r.Found)
	assert.True(t, r.Complete)
	assert.Equal(t, benchUsage.TotalTokens, r.Usage.TotalTokens)
	assert.Less(t, watch.growth(), int64(heapBound),
		"the live heap grew by %d bytes over a %d-byte body", watch.growth(), written)
}

func TestExtractorFlatMemoryGzip100MB(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 100 MB through the extractor; skipped with -short")
	}

	// A goroutine compresses the body into a pipe, so the compressed body is
	// never held in memory either.
	pr, pw := io.Pipe()
	go func() {
		zw := gzip.NewWriter(pw)
		block := sseBlock()
		for written := 0; written < streamedBodySize; written += len(block) {
			if _, err := zw.Write(block); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		if _, err := io.WriteString(zw, sseUsageTail()); err != nil {
			pw.CloseWithError(err)
			return
		}
		pw.CloseWithError(zw.Close())
	}()

	x := newBenchExtractor(t, openAIChatURL, "text/event-stream", "gzip")
	watch := newHeapWatch()
	buf := make([]byte, 32<<10)
	compressed := 0
	for reads := 0; ; reads++ {
		n, err := pr.Read(buf)
		if n > 0 {
			written, werr := x.Write(buf[:n])
			require.NoError(t, werr)
			require.Equal(t, n, written)
			compressed += n
		}
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		if reads%300 == 0 {
			watch.sample()
		}
	}
	watch.sample()
	t.Logf("live heap grew by %d bytes over %d compressed bytes", watch.growth(), compressed)

	r := x.Finish(true)
	require.True(t, r.Found, "the usage in the last gzip block must be found")
	assert.True(t, r.Complete)
	assert.Equal(t, benchUsage.TotalTokens, r.Usage.TotalTokens)
	assert.Less(t, watch.growth(), int64(heapBound),
		"the live heap grew by %d bytes over %d compressed bytes", watch.growth(), compressed)
}
