package eventid

import (
	"crypto/rand"
	"encoding/hex"
)

// New returns 128 random bits in hex. Since Go 1.24, crypto/rand.Read never
// returns an error. It crashes the program instead when the system's random
// source fails.
func New() string {
	var id [16]byte
	_, _ = rand.Read(id[:])
	return hex.EncodeToString(id[:])
}
