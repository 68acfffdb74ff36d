package testservers

import (
	"net/http"
	"strconv"
)

// Body is a recorded HTTP response: status, content headers and the body
// bytes exactly as they went over the wire.
type Body struct {
	// Status is the HTTP status code; 0 means 200.
	Status int

	// ContentType and ContentEncoding are sent as the response headers of
	// the same names when they are not empty.
	ContentType     string
	ContentEncoding string

	// Data is the body as sent, compressed when ContentEncoding names a compression.
	Data []byte
}

// Replay returns a handler that responds to every request with b. It sets
// Content-Length, so the client sees a body of known size.
func Replay(b Body) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.write(w)
	})
}

func (b Body) write(w http.ResponseWriter) {
	header := w.Header()
	if b.ContentType != "" {
		header.Set("Content-Type", b.ContentType)
	}
	if b.ContentEncoding != "" {
		header.Set("Content-Encoding", b.ContentEncoding)
	}
	header.Set("Content-Length", strconv.Itoa(len(b.Data)))

	status := b.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = w.Write(b.Data)
}
