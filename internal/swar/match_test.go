package swar

import (
	"encoding/binary"
	"math/bits"
	"testing"
)

// firstIndex returns the index of the lowest set bit of found as a byte
// index, or 8 when found is 0.
func firstIndex(found uint64) int {
	if found == 0 {
		return 8
	}
	return bits.TrailingZeros64(found) / 8
}

// TestMatchAgainstByteLoop compares both matchers with a byte loop on
// 200,000 words whose bytes come from a set of edge values around 0x20,
// 0x80 and the searched bytes.
func TestMatchAgainstByteLoop(t *testing.T) {
	alphabet := []byte{0x00, 0x01, 0x1f, 0x20, '"', '\\', 'a', 0x7f, 0x80, 0xff}
	var word [8]byte
	for seed := range 200000 {
		s := seed
		for i := range word {
			word[i] = alphabet[s%len(alphabet)]
			s = s*7 + 3
		}
		w := binary.LittleEndian.Uint64(word[:])

		for _, c := range []byte{'"', '\\', 0x00, 0xff} {
			want := 8
			for i, b := range word {
				if b == c {
					want = i
					break
				}
			}
			if got := firstIndex(MatchByte(w, c)); got != want {
				t.Fatalf("MatchByte(% x, %#x) found index %d, want %d", word, c, got, want)
			}
		}

		want := 8
		for i, b := range word {
			if b < 0x20 {
				want = i
				break
			}
		}
		if got := firstIndex(MatchControl(w)); got != want {
			t.Fatalf("MatchControl(% x) found index %d, want %d", word, got, want)
		}
	}
}
