package jsonscan

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// naiveStringStop is the byte loop that indexStringStop must match.
func naiveStringStop(p []byte, i, end int) int {
	for ; i < end; i++ {
		if p[i] == '"' || p[i] == '\\' {
			return i
		}
	}
	return end
}

func TestIndexStringStopMatchesByteLoop(t *testing.T) {
	// Lengths cross the 8-byte steps, the 32-byte switch to bytes.IndexByte
	// and the 512-byte windows, with zero to three stops at random places.
	rng := rand.New(rand.NewPCG(1, 2))
	for range 5000 {
		p := make([]byte, rng.IntN(2*stringWindow+64))
		for k := range p {
			p[k] = 'a' + byte(rng.IntN(26))
		}
		for range rng.IntN(4) {
			if len(p) > 0 {
				p[rng.IntN(len(p))] = "\"\\"[rng.IntN(2)]
			}
		}
		start := 0
		if len(p) > 0 {
			start = rng.IntN(len(p) + 1)
		}
		end := start + rng.IntN(len(p)-start+1)

		require.Equal(t, naiveStringStop(p, start, end), indexStringStop(p, start, end),
			"len %d, start %d, end %d", len(p), start, end)
	}
}
