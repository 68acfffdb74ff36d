package transport_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
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
	"github.com/httpmeter/httpmeter/transport"
	"github.com/httpmeter/httpmeter/usage"
)

// secretToken and secretQuery must never appear in an error or a log.
const (
	secretToken = "tok-UNIQUE-SECRET"
	secretQuery = "query-UNIQUE-SECRET"
	chatJSON    = `{"id":"c1","object":"chat.completion","model":"gpt-4o","usage":{"prompt_tokens":3,"completion_tokens":5,"total_tokens":8}}`
)

// roundTripFunc adapts a function to http.RoundTripper for in-memory bases
// that never open a connection.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// countingBody is a body whose Close calls are counted.
type countingBody struct {
	io.Reader
	closes atomic.Int32
}

func (b *countingBody) Close() error {
	b.closes.Add(1)
	return nil
}

// eventStore is a usage.Recorder that stores every event.
type eventStore struct {
	mu     sync.Mutex
	events []usage.Event
}

func (r *eventStore) Record(e usage.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *eventStore) all() []usage.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]usage.Event(nil), r.events...)
}

func userContext(token string) context.Context {
	return authctx.NewContext(context.Background(), authctx.Credential{Token: token, Subject: "test-user"})
}

// startAuthorizationRecorder starts a loopback server that stores the
// Authorization values of the last request it received.
func startAuthorizationRecorder(t *testing.T) (*httptest.Server, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var last []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		last = r.Header.Values("Authorization")
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return last
	}
}

func newTestBearer(t *testing.T, next http.RoundTripper, opts ...transport.BearerOption) *transport.BearerTransport {
	t.Helper()
	bearer, err := transport.Bearer(next, opts...)
	require.NoError(t, err)
	return bearer
}

func TestBearerLowercaseAuthorizationKey(t *testing.T) {
	cases := []struct {
		name string
		opts []transport.BearerOption
		want []string
	}{
		{name: "kept by default", want: []string{"Basic Y2FsbGVyOnB3"}},
		{name: "replaced", opts: []transport.BearerOption{transport.ReplaceAuthorization()}, want: []string{"Bearer " + secretToken}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, lastAuthorization := startAuthorizationRecorder(t)
			bearer := newTestBearer(t, srv.Client().Transport, append([]transport.BearerOption{transport.AllowOrigins(srv.URL)}, tc.opts...)...)

			req, err := http.NewRequestWithContext(userContext(secretToken), http.MethodGet, srv.URL, nil)
			require.NoError(t, err)
			// A header map key that is not in canonical form is still the
			// caller's Authorization, and HTTP/1.1 writes it as it is.
			req.Header["authorization"] = []string{"Basic Y2FsbGVyOnB3"}

			resp, err := bearer.RoundTrip(req)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())

			assert.Equal(t, tc.want, lastAuthorization(), "exactly one Authorization field expected")
		})
	}
}

func TestUserAgentLowercaseKeyMerged(t *testing.T) {
	var mu sync.Mutex
	var userAgents []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		userAgents = r.Header.Values("User-Agent")
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)

	app, err := product.NewApp("acme", "0.1.0")
	require.NoError(t, err)
	rt := transport.UserAgent(srv.Client().Transport, app)

	req, err := http.NewRequest(http.MethodGet, srv.URL, nil)
	require.NoError(t, err)
	req.Header["user-agent"] = []string{"sdk/1.0"}

	resp, err := rt.RoundTrip(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, userAgents, 1, "one User-Agent field expected, got %q", userAgents)
	assert.Equal(t, "sdk/1.0 acme/0.1.0", userAgents[0])
}

func TestBearerRedirectOtherOrigin(t *testing.T) {
	for _, status := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			other, otherAuthorization := startAuthorizationRecorder(t)
			var allowedAuthorization atomic.Value
			allowed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				allowedAuthorization.Store(r.Header.Get("Authorization"))
				http.Redirect(w, r, other.URL+"/next", status)
			}))
			t.Cleanup(allowed.Close)

			bearer := newTestBearer(t, allowed.Client().Transport, transport.AllowOrigins(allowed.URL))
			client := &http.Client{Transport: bearer}

			req, err := http.NewRequestWithContext(userContext(secretToken), http.MethodPost, allowed.URL, strings.NewReader("payload"))
			require.NoError(t, err)
			resp, err := client.Do(req)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())

			assert.Equal(t, "Bearer "+secretToken, allowedAuthorization.Load())
			assert.Empty(t, otherAuthorization(), "the token followed the redirect to another origin")
		})
	}
}

func TestBearerOriginForms(t *testing.T) {
	cases := []struct {
		name      string
		url       string
		host      string // the Host header, when it differs from the URL
		wantToken bool
	}{
		{name: "exact", url: "https://a.example/v1", wantToken: true},
		{name: "upper case host", url: "https://A.EXAMPLE/v1", wantToken: true},
		{name: "default port", url: "https://a.example:443/v1", wantToken: true},
		{name: "trailing dot", url: "https://a.example./v1", wantToken: true},
		{name: "Host header same origin", url: "https://a.example/v1", host: "A.example:443", wantToken: true},
		{name: "other scheme", url: "http://a.example/v1"},
		{name: "other port", url: "https://a.example:8443/v1"},
		{name: "suffix host", url: "https://a.example.evil.test/v1"},
		{name: "prefix host", url: "https://evil-a.example/v1"},
		{name: "user info naming the host", url: "https://a.example@evil.test/v1"},
		{name: "host in query", url: "https://evil.test/v1?h=a.example"},
		{name: "Host header other server", url: "https://a.example/v1", host: "evil.test"},
		{name: "Host header other port", url: "https://a.example/v1", host: "a.example:8443"},
		{name: "Host header invalid", url: "https://a.example/v1", host: "a.example:1:2"},
		{name: "IPv6 allowed", url: "http://[::1]:8080/v1", wantToken: true},
		{name: "IPv6 other port", url: "http://[::1]:8081/v1"},
		{name: "IPv6 upper case", url: "http://[FE80::1]:8080/v1", wantToken: true},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var sent http.Header
			base := roundTripFunc(func(req *http.Request) (*http.Response, error) {
				sent = req.Header.Clone()
				return &http.Response{StatusCode: http.StatusNoContent, Body: http.NoBody, Request: req}, nil
			})
			bearer := newTestBearer(t, base, transport.AllowOrigins("https://a.example", "http://[::1]:8080", "http://[fe80::1]:8080"))

			req, err := http.NewRequestWithContext(userContext(secretToken), http.MethodGet, tc.url, nil)
			require.NoError(t, err)
			if tc.host != "" {
				req.Host = tc.host
			}

			resp, err := bearer.RoundTrip(req)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())

			if tc.wantToken {
				assert.Equal(t, "Bearer "+secretToken, sent.Get("Authorization"))
			} else {
				assert.Empty(t, sent.Get("Authorization"))
			}
		})
	}
}

func TestBearerURLUserInfoThroughClient(t *testing.T) {
	srv, lastAuthorization := startAuthorizationRecorder(t)
	bearer := newTestBearer(t, srv.Client().Transport, transport.AllowOrigins(srv.URL))
	client := &http.Client{Transport: bearer}

	withUser := strings.Replace(srv.URL, "http://", "http://caller:pw@", 1)
	req, err := http.NewRequestWithContext(userContext(secretToken), http.MethodGet, withUser, nil)
	require.NoError(t, err)
	resp, err := client.Do(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())

	// http.Client turns the URL's user info into Basic authorization, which
	// is the caller's own and is kept by default.
	require.Len(t, lastAuthorization(), 1)
	assert.True(t, strings.HasPrefix(lastAuthorization()[0], "Basic "), "got %q", lastAuthorization())
}

func TestRequestBodyClosedOnError(t *testing.T) {
	baseCalled := atomic.Bool{}
	failing := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		baseCalled.Store(true)
		return nil, errors.New("unused")
	})

	cases := []struct {
		name string
		ctx  context.Context
		opts []transport.BearerOption
	}{
		{name: "no credential", ctx: context.Background()},
		{name: "expired credential", ctx: authctx.NewContext(context.Background(), authctx.Credential{Token: secretToken, Expiry: time.Now().Add(-time.Minute)})},
		{name: "token with newline", ctx: userContext(secretToken + "\nX-Injected: 1")},
		{name: "provider error", ctx: context.Background(), opts: []transport.BearerOption{transport.WithProvider(authctx.Static(authctx.Credential{}))}},
		{name: "credential of another workspace", ctx: authctx.NewContext(context.Background(), authctx.Credential{Token: secretToken, Host: "https://b.example"}), opts: []transport.BearerOption{transport.MatchCredentialHost()}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			baseCalled.Store(false)
			bearer := newTestBearer(t, failing, append([]transport.BearerOption{transport.AllowOrigins("https://a.example")}, tc.opts...)...)
			body := &countingBody{Reader: strings.NewReader("payload")}
			req, err := http.NewRequestWithContext(tc.ctx, http.MethodPost, "https://a.example/v1?api_key="+secretQuery, body)
			require.NoError(t, err)

			resp, err := bearer.RoundTrip(req)
			require.Error(t, err)
			assert.Nil(t, resp)
			assert.False(t, baseCalled.Load(), "the request was handed on")
			assert.Equal(t, int32(1), body.closes.Load(), "request body Close calls")
			assert.NotContains(t, err.Error(), secretToken)
			assert.NotContains(t, err.Error(), secretQuery)
		})
	}
}

func TestInvalidRequestClosesBody(t *testing.T) {
	bearer := newTestBearer(t, nil, transport.AllowOrigins("https://a.example"))
	layers := map[string]http.RoundTripper{
		"UserAgent": transport.UserAgent(nil, product.App{}),
		"Bearer":    bearer,
		"Usage":     transport.Usage(nil, &eventStore{}),
	}
	for name, rt := range layers {
		t.Run(name+"/nil request", func(t *testing.T) {
			var resp *http.Response
			var err error
			require.NotPanics(t, func() { resp, err = rt.RoundTrip(nil) })
			require.Error(t, err)
			assert.Nil(t, resp)
		})
		t.Run(name+"/nil URL", func(t *testing.T) {
			body := &countingBody{Reader: strings.NewReader("payload")}
			req := &http.Request{Method: http.MethodPost, Header: http.Header{}, Body: body}

			resp, err := rt.RoundTrip(req)
			require.Error(t, err)
			assert.Nil(t, resp)
			assert.Equal(t, int32(1), body.closes.Load())
		})
		t.Run(name+"/nil Header", func(t *testing.T) {
			body := &countingBody{Reader: strings.NewReader("payload")}
			req, err := http.NewRequest(http.MethodPost, "https://a.example/v1", body)
			require.NoError(t, err)
			req.Header = nil

			resp, err := rt.RoundTrip(req)
			require.Error(t, err)
			assert.Nil(t, resp)
			assert.Equal(t, int32(1), body.closes.Load())
		})
	}
}

func TestNeverResponseAndError(t *testing.T) {
	respBody := &countingBody{Reader: strings.NewReader(chatJSON)}
	both := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}}, Body: respBody, Request: req}, errors.New("base failed")
	})
	neither := roundTripFunc(func(req *http.Request) (*http.Response, error) { return nil, nil })

	app, err := product.NewApp("acme", "0.1.0")
	require.NoError(t, err)
	for _, base := range []struct {
		name string
		rt   http.RoundTripper
	}{{"both", both}, {"neither", neither}} {
		events := &eventStore{}
		layers := map[string]http.RoundTripper{
			"UserAgent": transport.UserAgent(base.rt, app),
			"Bearer":    newTestBearer(t, base.rt, transport.AllowOrigins("https://a.example")),
			"Usage":     transport.Usage(base.rt, events),
		}
		for name, rt := range layers {
			t.Run(base.name+"/"+name, func(t *testing.T) {
				respBody.closes.Store(0)
				req, err := http.NewRequestWithContext(userContext(secretToken), http.MethodGet, "https://a.example/v1/chat/completions", nil)
				require.NoError(t, err)

				resp, err := rt.RoundTrip(req)
				require.Error(t, err)
				assert.Nil(t, resp)
				if base.name == "both" {
					assert.Equal(t, int32(1), respBody.closes.Load(), "dropped response body Close calls")
				}
				assert.NotContains(t, err.Error(), secretToken)
			})
		}
		assert.Empty(t, events.all(), "a failed round trip produced an event")
	}
}

func TestStackLeavesRequestUnchanged(t *testing.T) {
	app, err := product.NewApp("acme", "0.1.0")
	require.NoError(t, err)
	base := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(chatJSON)), Request: req}, nil
	})
	stack := transport.Chain(base,
		func(next http.RoundTripper) http.RoundTripper { return transport.UserAgent(next, app) },
		func(next http.RoundTripper) http.RoundTripper {
			return newTestBearer(t, next, transport.AllowOrigins("https://a.example"))
		},
		func(next http.RoundTripper) http.RoundTripper { return transport.Usage(next, &eventStore{}) },
	)

	for _, target := range []string{"https://a.example/v1/chat/completions?x=1", "https://b.example/v1/chat/completions"} {
		t.Run(target, func(t *testing.T) {
			ctx := userContext(secretToken)
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader("{}"))
			require.NoError(t, err)
			req.Header.Set("User-Agent", "sdk/1.0")
			req.Header.Add("X-Multi", "a")
			req.Header.Add("X-Multi", "b")
			wantHeader := req.Header.Clone()
			wantURL := req.URL.String()
			wantHost := req.Host

			resp, err := stack.RoundTrip(req)
			require.NoError(t, err)
			_, err = io.Copy(io.Discard, resp.Body)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())

			assert.Equal(t, wantHeader, req.Header)
			assert.Equal(t, wantURL, req.URL.String())
			assert.Equal(t, wantHost, req.Host)
			assert.Equal(t, ctx, req.Context())
		})
	}
}

// fixedResponseBase returns an in-memory base whose response carries body
// with a JSON content type.
func fixedResponseBase(body io.ReadCloser) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}}, Body: body, Request: req}, nil
	})
}

func mustGet(t *testing.T, rt http.RoundTripper, url string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := rt.RoundTrip(req)
	require.NoError(t, err)
	return resp
}

func TestMeteredBodyCloseTwiceReadAfter(t *testing.T) {
	events := &eventStore{}
	underlying := &countingBody{Reader: strings.NewReader(chatJSON)}
	rt := transport.Usage(fixedResponseBase(underlying), events)

	resp := mustGet(t, rt, "https://a.example/v1/chat/completions")
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, chatJSON, string(data))
	require.NoError(t, resp.Body.Close())
	_ = resp.Body.Close()
	n, _ := resp.Body.Read(make([]byte, 8))
	assert.Zero(t, n)

	got := events.all()
	require.Len(t, got, 1)
	assert.True(t, got[0].Complete)
	assert.Equal(t, usage.SourceReported, got[0].Source)
	assert.Equal(t, int64(3), int64(got[0].Usage.InputTokens))
	assert.Equal(t, int64(5), int64(got[0].Usage.OutputTokens))
}

func TestMeteredBodyDataWithEOF(t *testing.T) {
	events := &eventStore{}
	// DataErrReader returns the last bytes together with io.EOF.
	body := io.NopCloser(iotest.DataErrReader(strings.NewReader(chatJSON)))
	rt := transport.Usage(fixedResponseBase(body), events)

	resp := mustGet(t, rt, "https://a.example/v1/chat/completions")
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, chatJSON, string(data))

	got := events.all()
	require.Len(t, got, 1, "the event must be recorded at EOF, before Close")
	assert.True(t, got[0].Complete)
	assert.Equal(t, usage.SourceReported, got[0].Source)

	require.NoError(t, resp.Body.Close())
	assert.Len(t, events.all(), 1)
}

func TestMeteredBodyDataWithError(t *testing.T) {
	events := &eventStore{}
	half := chatJSON[:len(chatJSON)/2]
	body := io.NopCloser(io.MultiReader(strings.NewReader(half), iotest.ErrReader(errors.New("connection reset"))))
	rt := transport.Usage(fixedResponseBase(body), events)

	resp := mustGet(t, rt, "https://a.example/v1/chat/completions")
	data, err := io.ReadAll(resp.Body)
	require.EqualError(t, err, "connection reset")
	assert.Equal(t, half, string(data))
	assert.Empty(t, events.all(), "an error other than EOF records nothing before Close")

	require.NoError(t, resp.Body.Close())
	got := events.all()
	require.Len(t, got, 1)
	assert.False(t, got[0].Complete)
}

// startStreamServer starts a loopback server that sends one SSE chunk,
// then waits until the client goes away or release is closed, then ends
// the stream with a usage chunk.
func startStreamServer(t *testing.T, http2 bool) (srv *httptest.Server, release chan struct{}) {
	t.Helper()
	release = make(chan struct{})
	srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: {\"id\":\"c1\",\"model\":\"gpt-4o\",\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
			return
		case <-release:
		}
		fmt.Fprint(w, "data: {\"id\":\"c1\",\"model\":\"gpt-4o\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":5,\"total_tokens\":8}}\n\ndata: [DONE]\n\n")
	}))
	if http2 {
		srv.EnableHTTP2 = true
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv, release
}

func TestMeteredBodyEarlyClose(t *testing.T) {
	srv, release := startStreamServer(t, false)
	defer close(release)
	events := &eventStore{}
	rt := transport.Usage(srv.Client().Transport, events)

	resp := mustGet(t, rt, srv.URL+"/v1/chat/completions")
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(line, "data: "), "the first chunk must arrive before the stream ends: %q", line)

	require.NoError(t, resp.Body.Close())
	got := events.all()
	require.Len(t, got, 1)
	assert.False(t, got[0].Complete)
}

func TestMeteredBodyConcurrentReadClose(t *testing.T) {
	for _, http2 := range []bool{false, true} {
		t.Run(fmt.Sprintf("HTTP/2 %v", http2), func(t *testing.T) {
			srv, release := startStreamServer(t, http2)
			defer close(release)
			events := &eventStore{}
			rt := transport.Usage(srv.Client().Transport, events)

			for range 20 {
				resp := mustGet(t, rt, srv.URL+"/v1/chat/completions")
				assert.Equal(t, http2, resp.ProtoMajor == 2, "protocol %s", resp.Proto)
				firstRead := make(chan struct{})
				readDone := make(chan error, 1)
				go func() {
					buf := make([]byte, 64)
					_, err := resp.Body.Read(buf)
					close(firstRead)
					for err == nil {
						_, err = resp.Body.Read(buf)
					}
					readDone <- err
				}()

				<-firstRead
				require.NoError(t, resp.Body.Close())
				select {
				case err := <-readDone:
					assert.Error(t, err)
				case <-time.After(5 * time.Second):
					t.Fatal("Close did not interrupt a blocked Read")
				}
			}
			assert.Len(t, events.all(), 20)
			srv.Client().CloseIdleConnections()
		})
	}
}

func TestUsageUnmeteredResponses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/no-content":
			w.WriteHeader(http.StatusNoContent)
		case "/not-modified":
			w.WriteHeader(http.StatusNotModified)
		case "/error":
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, chatJSON)
		default:
			fmt.Fprint(w, chatJSON)
		}
	}))
	t.Cleanup(srv.Close)

	cases := []struct {
		method, path string
	}{
		{http.MethodHead, "/v1/chat/completions"},
		{http.MethodGet, "/no-content"},
		{http.MethodGet, "/not-modified"},
		{http.MethodGet, "/error"},
	}
	for _, tc := range cases {
		t.Run(tc.method+tc.path, func(t *testing.T) {
			events := &eventStore{}
			rt := transport.Usage(srv.Client().Transport, events)
			req, err := http.NewRequest(tc.method, srv.URL+tc.path, nil)
			require.NoError(t, err)
			resp, err := rt.RoundTrip(req)
			require.NoError(t, err)
			_, err = io.Copy(io.Discard, resp.Body)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())
			assert.Empty(t, events.all())
		})
	}
}

func TestUsageSwitchingProtocols(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		fmt.Fprint(buf, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\nContent-Type: application/json\r\n\r\n")
		_ = buf.Flush()
		line, err := buf.ReadString('\n')
		if err != nil {
			return
		}
		fmt.Fprint(buf, "echo: "+line)
		_ = buf.Flush()
	}))
	t.Cleanup(srv.Close)

	events := &eventStore{}
	rt := transport.Usage(srv.Client().Transport, events)
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/v1/chat/completions", nil)
	require.NoError(t, err)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "echo")

	resp, err := rt.RoundTrip(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	conn, ok := resp.Body.(io.ReadWriteCloser)
	require.True(t, ok, "the 101 body must stay writable, got %T", resp.Body)

	_, err = io.WriteString(conn, "ping\n")
	require.NoError(t, err)
	line, err := bufio.NewReader(conn).ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "echo: ping\n", line)
	require.NoError(t, conn.Close())
	assert.Empty(t, events.all())
}

func TestUsageGzipBodies(t *testing.T) {
	var compressed bytes.Buffer
	zw := gzip.NewWriter(&compressed)
	_, err := zw.Write([]byte(chatJSON))
	require.NoError(t, err)
	require.NoError(t, zw.Close())

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(compressed.Bytes())
	}))
	t.Cleanup(srv.Close)

	for _, explicit := range []bool{false, true} {
		t.Run(fmt.Sprintf("caller sets Accept-Encoding %v", explicit), func(t *testing.T) {
			events := &eventStore{}
			rt := transport.Usage(srv.Client().Transport, events)
			req, err := http.NewRequest(http.MethodGet, srv.URL+"/v1/chat/completions", nil)
			require.NoError(t, err)
			if explicit {
				req.Header.Set("Accept-Encoding", "gzip")
			}

			resp, err := rt.RoundTrip(req)
			require.NoError(t, err)
			_, err = io.Copy(io.Discard, resp.Body)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())

			got := events.all()
			require.Len(t, got, 1)
			assert.Equal(t, usage.SourceReported, got[0].Source)
			assert.Equal(t, int64(8), int64(got[0].Usage.TotalTokens))
		})
	}
}

func TestUsageHugeBody(t *testing.T) {
	const padding = 32 << 20
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id":"c1","model":"gpt-4o","choices":[{"message":{"content":"`)
		chunk := bytes.Repeat([]byte("a"), 64<<10)
		for range padding / len(chunk) {
			_, _ = w.Write(chunk)
		}
		fmt.Fprint(w, `"}}],"usage":{"prompt_tokens":3,"completion_tokens":5,"total_tokens":8}}`)
	}))
	t.Cleanup(srv.Close)

	events := &eventStore{}
	rt := transport.Usage(srv.Client().Transport, events)
	resp := mustGet(t, rt, srv.URL+"/v1/chat/completions")
	n, err := io.Copy(io.Discard, resp.Body)
	require.NoError(t, err)
	assert.Greater(t, n, int64(padding))
	require.NoError(t, resp.Body.Close())

	got := events.all()
	require.Len(t, got, 1)
	assert.Equal(t, usage.SourceReported, got[0].Source)
	assert.Equal(t, int64(8), int64(got[0].Usage.TotalTokens))
}

func TestLogsHideTokenAndQuery(t *testing.T) {
	var logs bytes.Buffer
	var logsMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &logsMu}, &slog.HandlerOptions{Level: slog.LevelDebug}))

	base := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"text/plain"}}, Body: io.NopCloser(strings.NewReader("ok")), Request: req}, nil
	})
	stack := transport.Chain(base,
		func(next http.RoundTripper) http.RoundTripper {
			return transport.UserAgent(next, product.App{}, transport.WithLogger(logger))
		},
		func(next http.RoundTripper) http.RoundTripper {
			return newTestBearer(t, next, transport.AllowOrigins("https://a.example"), transport.WithLogger(logger))
		},
		func(next http.RoundTripper) http.RoundTripper {
			return transport.Usage(next, &eventStore{}, transport.WithLogger(logger))
		},
	)

	for _, target := range []string{"https://a.example/v1?api_key=" + secretQuery, "https://b.example/v1?api_key=" + secretQuery, "https://a.example/oidc/v1/token?secret=" + secretQuery} {
		req, err := http.NewRequestWithContext(userContext(secretToken), http.MethodGet, target, nil)
		require.NoError(t, err)
		resp, err := stack.RoundTrip(req)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
	}

	logsMu.Lock()
	defer logsMu.Unlock()
	assert.NotEmpty(t, logs.String(), "the debug logger received nothing")
	assert.NotContains(t, logs.String(), secretToken)
	assert.NotContains(t, logs.String(), secretQuery)
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestMeteredBodyRecordsBeforeClose(t *testing.T) {
	underlying := &countingBody{Reader: strings.NewReader(chatJSON)}
	var closesAtRecord []int32
	recorder := usage.RecorderFunc(func(usage.Event) {
		closesAtRecord = append(closesAtRecord, underlying.closes.Load())
	})
	rt := transport.Usage(fixedResponseBase(underlying), recorder)

	resp := mustGet(t, rt, "https://a.example/v1/chat/completions")
	require.NoError(t, resp.Body.Close())
	require.NoError(t, resp.Body.Close())

	assert.Equal(t, []int32{0}, closesAtRecord, "Record must run once, before the underlying Close")
	assert.GreaterOrEqual(t, underlying.closes.Load(), int32(1))
}

func TestMatchCredentialHostForms(t *testing.T) {
	cases := []struct {
		host      string
		wantToken bool
	}{
		{host: "", wantToken: true},
		{host: "https://a.example", wantToken: true},
		{host: "a.example", wantToken: true},
		{host: "https://A.EXAMPLE:443/", wantToken: true},
		{host: "https://a.example./", wantToken: true},
		{host: "http://a.example"},
		{host: "https://b.example"},
		{host: "https://a.example:8443"},
		{host: "ftp://a.example"},
	}
	for _, tc := range cases {
		t.Run(tc.host, func(t *testing.T) {
			var sent string
			base := roundTripFunc(func(req *http.Request) (*http.Response, error) {
				sent = req.Header.Get("Authorization")
				return &http.Response{StatusCode: http.StatusNoContent, Body: http.NoBody, Request: req}, nil
			})
			bearer := newTestBearer(t, base, transport.AllowOrigins("https://a.example", "https://b.example"), transport.MatchCredentialHost())

			ctx := authctx.NewContext(context.Background(), authctx.Credential{Token: secretToken, Host: tc.host})
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://a.example/v1", nil)
			require.NoError(t, err)
			resp, err := bearer.RoundTrip(req)

			if tc.wantToken {
				require.NoError(t, err)
				require.NoError(t, resp.Body.Close())
				assert.Equal(t, "Bearer "+secretToken, sent)
				return
			}
			require.Error(t, err)
			assert.Nil(t, resp)
			assert.Empty(t, sent)
			assert.NotContains(t, err.Error(), secretToken)
		})
	}
}

func TestChainOrderAndNilLayer(t *testing.T) {
	var order []string
	layer := func(name string) func(http.RoundTripper) http.RoundTripper {
		return func(next http.RoundTripper) http.RoundTripper {
			return roundTripFunc(func(req *http.Request) (*http.Response, error) {
				order = append(order, name)
				return next.RoundTrip(req)
			})
		}
	}
	base := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		order = append(order, "base")
		return &http.Response{StatusCode: http.StatusNoContent, Body: http.NoBody, Request: req}, nil
	})

	rt := transport.Chain(base, layer("a"), nil, layer("b"))
	resp := mustGet(t, rt, "https://a.example/")
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, []string{"a", "b", "base"}, order)
}

func TestUsageRedirectOneEvent(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/start" {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Location", "/v1/chat/completions")
			w.WriteHeader(http.StatusFound)
			fmt.Fprint(w, chatJSON)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, chatJSON)
	}))
	t.Cleanup(srv.Close)

	events := &eventStore{}
	client := &http.Client{Transport: transport.Usage(srv.Client().Transport, events)}
	resp, err := client.Get(srv.URL + "/start")
	require.NoError(t, err)
	_, err = io.Copy(io.Discard, resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())

	got := events.all()
	require.Len(t, got, 1)
	assert.Equal(t, "/v1/chat/completions", got[0].Path)
}
