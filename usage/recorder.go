package usage

// Recorder receives one [Event] per metered response. The transport calls
// Record on the goroutine that finished reading the body, so Record must
// return quickly and must be safe for concurrent use.
type Recorder interface {
	Record(Event)
}

// RecorderFunc adapts a function to a [Recorder].
type RecorderFunc func(Event)

// Record calls f(e). A nil f records nothing.
func (f RecorderFunc) Record(e Event) {
	if f != nil {
		f(e)
	}
}
