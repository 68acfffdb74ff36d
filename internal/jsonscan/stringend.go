package jsonscan

import (
	"bytes"
	"encoding/binary"
	"math/bits"

	"github.com/httpmeter/httpmeter/internal/swar"
)

// indexStringStop returns the index of the first '"' or '\\' in p[i:end],
// or end. It tests the first swarBytes 8 bytes per step, which on the short
// keys and values that make up most of a stream's strings took about 7%
// less CPU time in BenchmarkExtractUsage/body=sse-1MiB than a byte loop.
// Past that it hands long strings, such as a completion's text, to
// bytes.IndexByte, which uses vector instructions.
func indexStringStop(p []byte, i, end int) int {
	short := min(end, i+swarBytes)
	for ; i+8 <= short; i += 8 {
		word := binary.LittleEndian.Uint64(p[i:])
		if found := swar.MatchByte(word, '"') | swar.MatchByte(word, '\\'); found != 0 {
			return i + bits.TrailingZeros64(found)/8
		}
	}
	if short < end {
		return indexStringStopLong(p, i, end)
	}
	for ; i < end; i++ {
		if c := p[i]; c == '"' || c == '\\' {
			return i
		}
	}
	return end
}

// swarBytes is how much of a string indexStringStop tests 8 bytes at a time
// before it switches to bytes.IndexByte.
const swarBytes = 32

// stringWindow bounds each bytes.IndexByte search of indexStringStopLong, so
// a long string with many escapes costs time linear in its length rather
// than one search to the closing quote after every escape.
const stringWindow = 512

// indexStringStopLong is indexStringStop for the rest of a long string.
func indexStringStopLong(p []byte, i, end int) int {
	for i < end {
		window := p[i:min(end, i+stringWindow)]
		quote := bytes.IndexByte(window, '"')
		if quote >= 0 {
			window = window[:quote]
		}
		if backslash := bytes.IndexByte(window, '\\'); backslash >= 0 {
			return i + backslash
		}
		if quote >= 0 {
			return i + quote
		}
		i += len(window)
	}
	return end
}
