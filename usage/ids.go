package usage

import (
	"crypto/rand"
	"encoding/hex"
)

// newFoldID returns a random idempotency key for a folded total. The "fold-"
// prefix keeps it apart from the IDs of single responses.
func newFoldID() string {
	var b [16]byte
	rand.Read(b[:])
	return "fold-" + hex.EncodeToString(b[:])
}

// newEventID returns 128 random bits in hex, the ID of an event recorded
// without one.
func newEventID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
