package testservers

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
)

// Request is the record a [Server] keeps of one request: a copy of its
// method, path and headers. Bodies are not recorded.
type Request struct {
	Method string
	Path   string
	Header http.Header
}

// UserAgent returns the User-Agent header of r.
func (r Request) UserAgent() string { return r.Header.Get("User-Agent") }

// Authorization returns the Authorization header of r.
func (r Request) Authorization() string { return r.Header.Get("Authorization") }

// Server is an [httptest.Server] on the loopback interface that records every
// request before its handler runs. It is safe for concurrent use.
type Server struct {
	*httptest.Server

	mu       sync.Mutex
	requests []Request
}

// NewServer starts a Server that serves handler. The caller must Close it.
func NewServer(handler http.Handler) *Server {
	s := &Server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.record(r)
		handler.ServeHTTP(w, r)
	}))
	return s
}

func (s *Server) record(r *http.Request) {
	request := Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone()}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, request)
}

// Requests returns a copy of the requests recorded so far, in arrival order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// RequestsTo returns the recorded requests whose method and path are method
// and path.
func (s *Server) RequestsTo(method, path string) []Request {
	var matched []Request
	for _, r := range s.Requests() {
		if r.Method == method && r.Path == path {
			matched = append(matched, r)
		}
	}
	return matched
}
