package swar

// Word masks: every byte 0x01, 0x20 and 0x80.
const (
	lowBits   uint64 = 0x0101010101010101
	spaceBits uint64 = 0x2020202020202020
	highBits  uint64 = 0x8080808080808080
)

// MatchByte returns a word whose lowest set bit is the high bit of the
// first byte of word equal to c, or 0 when no byte is. Bits above the
// lowest one can be false matches, because the subtraction borrows across
// bytes only above a match, so callers use the lowest set bit alone.
func MatchByte(word uint64, c byte) uint64 {
	x := word ^ (lowBits * uint64(c))
	return (x - lowBits) &^ x & highBits
}

// MatchControl is MatchByte for the first byte below 0x20.
func MatchControl(word uint64) uint64 {
	return (word - spaceBits) &^ word & highBits
}
