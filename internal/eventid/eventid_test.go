package eventid

import (
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewIsRandomHex(t *testing.T) {
	seen := make(map[string]bool)
	for range 1000 {
		id := New()
		decoded, err := hex.DecodeString(id)
		require.NoError(t, err, "ID %q", id)
		assert.Len(t, decoded, 16)
		assert.False(t, seen[id], "ID %q repeated", id)
		seen[id] = true
	}
}
