package jsonscan

// push opens a container and reports false, after failing, when it would
// nest deeper than MaxNesting.
func (s *Scanner) push(array bool) bool {
	if s.depth >= MaxNesting {
		s.fail()
		return false
	}
	s.depth++

	word, bit := (s.depth-1)/64, uint((s.depth-1)%64)
	if array {
		s.arrays[word] |= 1 << bit
	} else {
		s.arrays[word] &^= 1 << bit
	}
	return true
}

// isArray reports whether the container at depth d (1-based) is an array.
func (s *Scanner) isArray(d int) bool {
	if d <= 0 {
		return false
	}
	word, bit := (d-1)/64, uint((d-1)%64)
	return s.arrays[word]&(1<<bit) != 0
}
