package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/httpmeter/httpmeter/authctx"
	"github.com/httpmeter/httpmeter/product"
	"github.com/httpmeter/httpmeter/usage"
)

// stepClock is a clock for WithClock that starts at a fixed time and moves
// by step on each reading.
type stepClock struct {
	start time.Time
	step  time.Duration
	reads atomic.Int64
}

func (c *stepClock) now() time.Time {
	n := c.reads.Add(1) - 1
	return c.start.Add(time.Duration(n) * c.step)
}

// readAllAndClose reads resp's body to its end and closes it.
func readAllAndClose(t *testing.T, resp *http.Response) string {
	t.Helper()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	return string(body)
}

// usageTestStream is a short OpenAI chat stream whose last event carries the
// usage.
const usageTestStream = "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\n" +
	"data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,\"total_tokens\":7}}\n\n" +
	"data: [DONE]\n\n"

func TestUsageRecordsEventFields(t *testing.T) {
	srv := newServer(t, chatJSONHandler())
	clock := &stepClock{start: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), step: 250 * time.Millisecond}
	log := &eventLog{}
	rt := Usage(newLoopbackTransport(t), log, WithClock(clock.now))

	ada := testCredential("ada", "https://adb-1.example")
	ctx := product.NewContext(authctx.NewContext(context.Background(), ada), testProduct(t, "chat"))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/chat/completions?api-key=secret", strings.NewReader(`{}`))
	require.NoError(t, err)

	resp, err := rt.RoundTrip(req)
	require.NoError(t, err)
	assert.Equal(t, chatJSON, readAllAndClose(t, resp))

	events := log.all()
	require.Len(t, events, 1)
	e := events[0]
	assert.Regexp(t, regexp.MustCompile(`^[0-9a-f]{32}$`), e.ID)
	assert.Equal(t, clock.start, e.Time)
	assert.Equal(t, 250*time.Millisecond, e.Duration)
	assert.Equal(t, "acme_chat/0.1.0", e.Product.UserAgent())
	assert.Equal(t, ada, e.Credential)
	assert.Equal(t, http.MethodPost, e.Method)
	assert.Equal(t, req.URL.Host, e.Host)
	assert.Equal(t, "/v1/chat/completions", e.Path)
	assert.Equal(t, http.StatusOK, e.Status)
	assert.Equal(t, 1, e.Count)
	assert.True(t, e.Complete)
	assert.Equal(t, usage.SourceReported, e.Source)
	assert.Equal(t, "gpt-4o-mini", e.Model)
	assert.Equal(t, int64(11), e.Usage.InputTokens)
	assert.Equal(t, int64(7), e.Usage.OutputTokens)
	assert.Equal(t, int64(18), e.Usage.TotalTokens)
}

func TestUsageWithAppFillsProduct(t *testing.T) {
	srv := newServer(t, chatJSONHandler())
	log := &eventLog{}
	client := &http.Client{Transport: Usage(newLoopbackTransport(t), log, WithApp(testApp(t)))}

	resp, err := client.Get(srv.URL + "/v1/chat/completions")
	require.NoError(t, err)
	readAllAndClose(t, resp)

	req, err := http.NewRequestWithContext(product.NewContext(context.Background(), testProduct(t, "chat")), http.MethodGet, srv.URL+"/v1/chat/completions", nil)
	require.NoError(t, err)
	resp, err = client.Do(req)
	require.NoError(t, err)
	readAllAndClose(t, resp)

	events := log.all()
	require.Len(t, events, 2)
	assert.Equal(t, "acme/0.1.0", events[0].Product.UserAgent(), "the application without a product in the context")
	assert.Equal(t, "acme_chat/0.1.0", events[1].Product.UserAgent(), "the context's product")
}

func TestUsageWithZeroAppKeepsProductZero(t *testing.T) {
	srv := newServer(t, chatJSONHandler())
	log := &eventLog{}
	client := &http.Client{Transport: Usage(newLoopbackTransport(t), log, WithApp(product.App{}))}

	resp, err := client.Get(srv.URL + "/v1/chat/completions")
	require.NoError(t, err)
	readAllAndClose(t, resp)

	events := log.all()
	require.Len(t, events, 1)
	assert.True(t, events[0].Product.IsZero())
}

func TestUsageEventIDsDiffer(t *testing.T) {
	srv := newServer(t, chatJSONHandler())
	log := &eventLog{}
	client := &http.Client{Transport: Usage(newLoopbackTransport(t), log)}

	for i := 0; i < 20; i++ {
		resp, err := client.Get(srv.URL + "/v1/chat/completions")
		require.NoError(t, err)
		readAllAndClose(t, resp)
	}

	seen := map[string]bool{}
	for _, e := range log.all() {
		assert.False(t, seen[e.ID], "duplicate ID %s", e.ID)
		seen[e.ID] = true
	}
	assert.Len(t, seen, 20)
}

func TestUsageSkipsUnmeterable(t *testing.T) {
	serve := func(status int, contentType, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if contentType != "" {
				w.Header().Set("Content-Type", contentType)
			}
			w.WriteHeader(status)
			_, _ = io.WriteString(w, body)
		}
	}
	tests := []struct {
		name    string
		handler http.HandlerFunc
		method  string
		path    string
		ctx     context.Context
		nilRec  bool
		nilFunc bool
	}{
		{name: "metering disabled", handler: serve(http.StatusOK, "application/json", chatJSON), ctx: usage.WithoutMetering(context.Background())},
		{name: "nil recorder", handler: serve(http.StatusOK, "application/json", chatJSON), nilRec: true},
		{name: "nil recorder func", handler: serve(http.StatusOK, "application/json", chatJSON), nilFunc: true},
		{name: "client error", handler: serve(http.StatusTooManyRequests, "application/json", `{"error":{"message":"slow down"}}`)},
		{name: "server error", handler: serve(http.StatusInternalServerError, "application/json", chatJSON)},
		{name: "no content", handler: serve(http.StatusNoContent, "application/json", "")},
		{name: "HEAD", handler: serve(http.StatusOK, "application/json", ""), method: http.MethodHead},
		{name: "token endpoint", handler: serve(http.StatusOK, "application/json", `{"access_token":"x","expires_in":3600}`), path: "/oidc/v1/token"},
		{name: "unknown content type", handler: serve(http.StatusOK, "image/png", "\x89PNG\r\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, tt.handler)
			log := &eventLog{}
			var rec usage.Recorder = log
			if tt.nilRec {
				rec = nil
			}
			if tt.nilFunc {
				rec = usage.RecorderFunc(nil)
			}
			rt := Usage(newLoopbackTransport(t), rec)

			ctx := tt.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			path := tt.path
			if path == "" {
				path = "/v1/chat/completions"
			}
			req, err := http.NewRequestWithContext(ctx, method, srv.URL+path, nil)
			require.NoError(t, err)

			resp, err := rt.RoundTrip(req)
			require.NoError(t, err)
			_, isMetered := resp.Body.(*meteredBody)
			assert.False(t, isMetered, "body was wrapped")
			readAllAndClose(t, resp)
			assert.Empty(t, log.all())
		})
	}
}

// streamHandler serves the SSE events of usageTestStream one by one. It
// flushes after each and, when next is not nil, waits for a value on next
// before writing the following event.
func streamHandler(next <-chan struct{}) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, event := range strings.SplitAfter(usageTestStream, "\n\n") {
			if event == "" {
				continue
			}
			_, _ = io.WriteString(w, event)
			_ = http.NewResponseController(w).Flush()
			if next == nil {
				continue
			}
			select {
			case <-next:
			case <-r.Context().Done():
				return
			}
		}
	}
}

func TestUsageCloseBeforeEOF(t *testing.T) {
	next := make(chan struct{})
	srv := newServer(t, streamHandler(next))
	log := &eventLog{}
	rt := Usage(newLoopbackTransport(t), log)

	req, err := http.NewRequest(http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(`{"stream":true}`))
	require.NoError(t, err)
	resp, err := rt.RoundTrip(req)
	require.NoError(t, err)

	first := make([]byte, 10)
	_, err = io.ReadFull(resp.Body, first)
	require.NoError(t, err)
	assert.Empty(t, log.all(), "an event before EOF or Close")

	require.NoError(t, resp.Body.Close())
	events := log.all()
	require.Len(t, events, 1)
	assert.False(t, events[0].Complete)

	require.NoError(t, resp.Body.Close())
	_, _ = resp.Body.Read(make([]byte, 10))
	assert.Len(t, log.all(), 1)
}

func TestUsageEOFThenClose(t *testing.T) {
	srv := newServer(t, streamHandler(nil))
	log := &eventLog{}
	rt := Usage(newLoopbackTransport(t), log)

	req, err := http.NewRequest(http.MethodPost, srv.URL+"/v1/chat/completions", nil)
	require.NoError(t, err)
	resp, err := rt.RoundTrip(req)
	require.NoError(t, err)

	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, usageTestStream, string(body))
	require.Len(t, log.all(), 1, "the event is recorded at EOF, before Close")

	n, err := resp.Body.Read(make([]byte, 10))
	assert.Zero(t, n)
	assert.ErrorIs(t, err, io.EOF)
	require.NoError(t, resp.Body.Close())
	require.NoError(t, resp.Body.Close())

	events := log.all()
	require.Len(t, events, 1)
	assert.True(t, events[0].Complete)
	assert.Equal(t, usage.SourceReported, events[0].Source)
	assert.Equal(t, int64(5), events[0].Usage.InputTokens)
	assert.Equal(t, int64(2), events[0].Usage.OutputTokens)
	assert.Equal(t, int64(7), events[0].Usage.TotalTokens)
}

func TestUsageOneByteReads(t *testing.T) {
	srv := newServer(t, streamHandler(nil))
	log := &eventLog{}
	client := &http.Client{Transport: Usage(newLoopbackTransport(t), log)}

	resp, err := client.Get(srv.URL + "/v1/chat/completions")
	require.NoError(t, err)
	body, err := io.ReadAll(iotest.OneByteReader(resp.Body))
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, usageTestStream, string(body))

	events := log.all()
	require.Len(t, events, 1)
	assert.True(t, events[0].Complete)
	assert.Equal(t, int64(7), events[0].Usage.TotalTokens)
}

// jsonResponse returns a 200 response to req with a JSON content type and
// body.
func jsonResponse(req *http.Request, body io.ReadCloser) *http.Response {
	return &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       body,
		Request:    req,
	}
}

func TestUsageRecordsBeforeClose(t *testing.T) {
	log := &eventLog{}
	var eventsAtClose atomic.Int32
	body := &closeHookBody{Reader: strings.NewReader(chatJSON), onClose: func() { eventsAtClose.Store(int32(len(log.all()))) }}
	rt := Usage(roundTripFunc(func(req *http.Request) (*http.Response, error) {
		return jsonResponse(req, body), nil
	}), log)

	req, err := http.NewRequest(http.MethodGet, "https://llm.example/v1/chat/completions", nil)
	require.NoError(t, err)
	resp, err := rt.RoundTrip(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())

	assert.Equal(t, int32(1), eventsAtClose.Load(), "events recorded when the underlying body was closed")
	assert.Len(t, log.all(), 1)
	assert.False(t, log.all()[0].Complete)
}

// closeHookBody calls onClose when it is closed.
type closeHookBody struct {
	io.Reader
	onClose func()
}

func (b *closeHookBody) Close() error {
	b.onClose()
	return nil
}

func TestUsageReadErrorThenClose(t *testing.T) {
	log := &eventLog{}
	readErr := errors.New("connection reset")
	broken := io.NopCloser(io.MultiReader(strings.NewReader(chatJSON[:40]), iotest.ErrReader(readErr)))
	rt := Usage(roundTripFunc(func(req *http.Request) (*http.Response, error) {
		return jsonResponse(req, broken), nil
	}), log)

	req, err := http.NewRequest(http.MethodGet, "https://llm.example/v1/chat/completions", nil)
	require.NoError(t, err)
	resp, err := rt.RoundTrip(req)
	require.NoError(t, err)

	_, err = io.ReadAll(resp.Body)
	require.ErrorIs(t, err, readErr)
	assert.Empty(t, log.all(), "a read error is not the end of the body")
	require.NoError(t, resp.Body.Close())

	events := log.all()
	require.Len(t, events, 1)
	assert.False(t, events[0].Complete)
	assert.Equal(t, usage.SourceMissing, events[0].Source)
}

func TestUsageReadCloseRace(t *testing.T) {
	// net/http allows Close to run while another goroutine is blocked in
	// Read, so both orders, and a Close during a Read, must record one
	// event and pass -race.
	for i := 0; i < 200; i++ {
		log := &eventLog{}
		pr, pw := io.Pipe()
		rt := Usage(roundTripFunc(func(req *http.Request) (*http.Response, error) {
			return jsonResponse(req, pr), nil
		}), log)

		req, err := http.NewRequest(http.MethodGet, "https://llm.example/v1/chat/completions", nil)
		require.NoError(t, err)
		resp, err := rt.RoundTrip(req)
		require.NoError(t, err)

		var wg sync.WaitGroup
		wg.Add(3)
		go func() {
			defer wg.Done()
			_, _ = io.Copy(io.Discard, resp.Body)
		}()
		go func() {
			defer wg.Done()
			_, _ = io.WriteString(pw, chatJSON[:i%len(chatJSON)])
			if i%2 == 0 {
				_ = pw.Close()
			}
		}()
		go func() {
			defer wg.Done()
			_ = resp.Body.Close()
			_ = pw.CloseWithError(io.ErrClosedPipe)
		}()
		wg.Wait()

		require.Len(t, log.all(), 1, "iteration %d", i)
	}
}

func TestUsageStreamTransparency(t *testing.T) {
	next := make(chan struct{})
	srv := newServer(t, streamHandler(next))
	log := &eventLog{}
	rt := Usage(newLoopbackTransport(t), log)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/chat/completions", nil)
	require.NoError(t, err)
	resp, err := rt.RoundTrip(req)
	require.NoError(t, err)

	// Each event must reach the client while the server is still waiting
	// for the acknowledgement that lets it write the next one: a wrapper
	// that read ahead would block here until the timeout.
	var received strings.Builder
	events := strings.SplitAfter(usageTestStream, "\n\n")
	for i, event := range events {
		if event == "" {
			continue
		}
		chunk := make([]byte, len(event))
		_, err := io.ReadFull(resp.Body, chunk)
		require.NoError(t, err, "event %d", i)
		assert.Equal(t, event, string(chunk), "event %d", i)
		received.Write(chunk)
		assert.Empty(t, log.all(), "an event was recorded before EOF")

		select {
		case next <- struct{}{}:
		case <-ctx.Done():
			t.Fatalf("server did not wait for event %d", i)
		}
	}

	rest, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Empty(t, rest)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, usageTestStream, received.String())
	require.Len(t, log.all(), 1)
	assert.True(t, log.all()[0].Complete)
}

func TestUsageRedirectRecordsFinalHop(t *testing.T) {
	final := newServer(t, chatJSONHandler())
	start := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		http.Redirect(w, r, final.URL+"/v1/chat/completions", http.StatusFound)
	}))
	log := &eventLog{}
	client := &http.Client{Transport: Usage(newLoopbackTransport(t), log)}

	resp, err := client.Get(start.URL + "/old/chat")
	require.NoError(t, err)
	readAllAndClose(t, resp)

	events := log.all()
	require.Len(t, events, 1)
	assert.Equal(t, strings.TrimPrefix(final.URL, "http://"), events[0].Host)
	assert.Equal(t, "/v1/chat/completions", events[0].Path)
}

// connBody is a response body that is also writable, as a tunnel is.
type connBody struct {
	io.Reader
	written strings.Builder
}

func (b *connBody) Write(p []byte) (int, error) { return b.written.Write(p) }
func (b *connBody) Close() error                { return nil }

func TestUsageKeepsWritableBody(t *testing.T) {
	log := &eventLog{}
	conn := &connBody{Reader: strings.NewReader(chatJSON)}
	rt := Usage(roundTripFunc(func(req *http.Request) (*http.Response, error) {
		return jsonResponse(req, conn), nil
	}), log)
	req, err := http.NewRequest(http.MethodConnect, "https://llm.example", nil)
	require.NoError(t, err)

	resp, err := rt.RoundTrip(req)
	require.NoError(t, err)
	assert.Same(t, conn, resp.Body)
	readAllAndClose(t, resp)
	assert.Empty(t, log.all())
}

func TestUsageBodyIsReadCloserOnly(t *testing.T) {
	// A wrapper that exposed io.WriterTo would let io.Copy move bytes
	// without Read, and so without metering.
	rt := Usage(roundTripFunc(func(req *http.Request) (*http.Response, error) {
		return jsonResponse(req, io.NopCloser(strings.NewReader(chatJSON))), nil
	}), &eventLog{})
	req, err := http.NewRequest(http.MethodGet, "https://llm.example/v1/chat/completions", nil)
	require.NoError(t, err)
	resp, err := rt.RoundTrip(req)
	require.NoError(t, err)
	defer resp.Body.Close()

	_, isWriterTo := resp.Body.(io.WriterTo)
	assert.False(t, isWriterTo)
	_, isWriter := resp.Body.(io.Writer)
	assert.False(t, isWriter)
	assert.Equal(t, fmt.Sprintf("%T", &meteredBody{}), fmt.Sprintf("%T", resp.Body))
}

func TestUsageCloseAfterFinalMessage(t *testing.T) {
	// Clients such as openai-go close a stream as soon as they read its
	// final message, before the body returns io.EOF.
	cases := []struct {
		name        string
		contentType string
		body        string
		complete    bool
	}{
		{
			name:        "sse done",
			contentType: "text/event-stream",
			body: "data: {\"model\":\"gpt-4o\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,\"total_tokens\":5}}\n\n" +
				"data: [DONE]\n\n",
			complete: true,
		},
		{
			name:        "sse anthropic message_stop",
			contentType: "text/event-stream",
			body: "event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":2}}\n\n" +
				"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
			complete: true,
		},
		{
			name:        "sse cut before done",
			contentType: "text/event-stream",
			body:        "data: {\"model\":\"gpt-4o\",\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\n",
			complete:    false,
		},
		{
			name:        "sse data that only starts like done",
			contentType: "text/event-stream",
			body:        "data: [DONE]x\n\n",
			complete:    false,
		},
		{
			name:        "json document closed",
			contentType: "application/json",
			body:        chatJSON,
			complete:    true,
		},
		{
			name:        "json document cut",
			contentType: "application/json",
			body:        chatJSON[:len(chatJSON)/2],
			complete:    false,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			log := &eventLog{}
			rt := Usage(roundTripFunc(func(req *http.Request) (*http.Response, error) {
				resp := jsonResponse(req, io.NopCloser(strings.NewReader(tc.body+"trailing bytes never read")))
				resp.Header.Set("Content-Type", tc.contentType)
				return resp, nil
			}), log)

			req, err := http.NewRequest(http.MethodPost, "https://llm.example/v1/chat/completions", nil)
			require.NoError(t, err)
			resp, err := rt.RoundTrip(req)
			require.NoError(t, err)

			_, err = io.ReadFull(resp.Body, make([]byte, len(tc.body)))
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())

			events := log.all()
			require.Len(t, events, 1)
			assert.Equal(t, tc.complete, events[0].Complete)
		})
	}
}
