package eventstream

// recordedMessage is what a recorder saw of one message.
type recordedMessage struct {
	messageType   string
	eventType     string
	exceptionType string
	contentType   string
	errorCode     string
	errorMessage  string
	payload       []byte
	payloadCalls  int
	ended         bool
	endErr        error
}

// recorder is a Handler that keeps every call, and checks that the calls
// come in the order the Handler contract promises.
type recorder struct {
	messages   []recordedMessage
	orderError string
}

func (r *recorder) current() *recordedMessage {
	if len(r.messages) == 0 || r.messages[len(r.messages)-1].ended {
		return nil
	}
	return &r.messages[len(r.messages)-1]
}

func (r *recorder) MessageStart(h Headers) {
	if r.current() != nil && r.orderError == "" {
		r.orderError = "MessageStart before the previous MessageEnd"
	}
	r.messages = append(r.messages, recordedMessage{
		messageType:   string(h.MessageType),
		eventType:     string(h.EventType),
		exceptionType: string(h.ExceptionType),
		contentType:   string(h.ContentType),
		errorCode:     string(h.ErrorCode),
		errorMessage:  string(h.ErrorMessage),
	})
}

func (r *recorder) Payload(p []byte) {
	m := r.current()
	if m == nil {
		if r.orderError == "" {
			r.orderError = "Payload outside a message"
		}
		return
	}
	m.payload = append(m.payload, p...)
	m.payloadCalls++
}

func (r *recorder) MessageEnd(err error) {
	m := r.current()
	if m == nil {
		if r.orderError == "" {
			r.orderError = "MessageEnd outside a message"
		}
		return
	}
	m.ended = true
	m.endErr = err
}

// discardHandler is a Handler that does nothing, for allocation counts.
type discardHandler struct{}

func (discardHandler) MessageStart(Headers) {}
func (discardHandler) Payload([]byte)       {}
func (discardHandler) MessageEnd(error)     {}
