package jsonscan

// finishCapture reports the captured value, whose last byte is p[end-1],
// to the handler.
func (s *Scanner) finishCapture(p []byte, end int) {
	s.appendCapture(p[s.capStart:end])
	s.capturing = false

	level := s.capDepth - s.docDepth
	s.h.Value(Path{s: s, n: level + 1}, s.capBuf, s.capTrunc)
}

// appendCapture adds b to the capture, cut at capLimit bytes.
func (s *Scanner) appendCapture(b []byte) {
	room := s.capLimit - len(s.capBuf)
	if len(b) > room {
		b = b[:room]
		s.capTrunc = true
	}
	s.capBuf = append(s.capBuf, b...)
}
