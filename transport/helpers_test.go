package transport

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/httpmeter/httpmeter/authctx"
	"github.com/httpmeter/httpmeter/product"
	"github.com/httpmeter/httpmeter/usage"
)

// roundTripFunc adapts a function to http.RoundTripper for in-memory bases.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// countingBody is a request or response body that counts its Close calls.
type countingBody struct {
	io.Reader
	closes atomic.Int32
}

func newCountingBody(s string) *countingBody {
	return &countingBody{Reader: strings.NewReader(s)}
}

func (b *countingBody) Close() error {
	b.closes.Add(1)
	return nil
}

// eventLog is a usage.Recorder that stores every event it receives.
type eventLog struct {
	mu     sync.Mutex
	events []usage.Event
}

func (l *eventLog) Record(e usage.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

func (l *eventLog) all() []usage.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]usage.Event(nil), l.events...)
}

// requestSnapshot is what a caller can observe of its request, taken before
// the request is sent and compared after.
type requestSnapshot struct {
	method        string
	url           string
	host          string
	header        http.Header
	ctx           context.Context
	body          io.ReadCloser
	hasGetBody    bool
	contentLength int64
}

func snapshotRequest(req *http.Request) requestSnapshot {
	return requestSnapshot{
		method:        req.Method,
		url:           req.URL.String(),
		host:          req.Host,
		header:        req.Header.Clone(),
		ctx:           req.Context(),
		body:          req.Body,
		hasGetBody:    req.GetBody != nil,
		contentLength: req.ContentLength,
	}
}

// requireUnchanged fails the test when req differs from the snapshot.
func requireUnchanged(t *testing.T, before requestSnapshot, req *http.Request) {
	t.Helper()
	require.Equal(t, before.method, req.Method, "method")
	require.Equal(t, before.url, req.URL.String(), "URL")
	require.Equal(t, before.host, req.Host, "Host")
	require.Equal(t, before.header, req.Header, "header")
	require.True(t, before.ctx == req.Context(), "context was replaced")
	require.True(t, before.body == req.Body, "body was replaced")
	require.Equal(t, before.hasGetBody, req.GetBody != nil, "GetBody")
	require.Equal(t, before.contentLength, req.ContentLength, "ContentLength")
}

// testApp returns the application used by the tests.
func testApp(t testing.TB) product.App {
	t.Helper()
	app, err := product.NewApp("acme", "0.1.0")
	require.NoError(t, err)
	return app
}

// testProduct returns the product of one feature of testApp.
func testProduct(t testing.TB, feature string) product.Product {
	t.Helper()
	p, err := testApp(t).Product(feature)
	require.NoError(t, err)
	return p
}

// testCredential returns a credential for subject with a token derived from
// it, so a test can tell whose token reached the server.
func testCredential(subject, host string) authctx.Credential {
	return authctx.Credential{
		Token:   "tok-" + subject,
		Method:  authctx.MethodOnBehalfOf,
		Subject: subject,
		Host:    host,
	}
}

// newLoopbackTransport returns an http.Transport of its own for one test, so
// idle connections of other tests never interfere, and closes its idle
// connections when the test ends.
func newLoopbackTransport(t testing.TB) *http.Transport {
	t.Helper()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

// newServer starts a loopback httptest server that is closed when the test
// ends.
func newServer(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// chatJSON is an OpenAI chat completion body with a usage object.
const chatJSON = `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-mini",` +
	`"choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],` +
	`"usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18}}`

// chatJSONHandler serves chatJSON with the JSON content type.
func chatJSONHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, chatJSON)
	})
}
