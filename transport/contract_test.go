package transport

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/httpmeter/httpmeter/authctx"
	"github.com/httpmeter/httpmeter/product"
)

// layerCase builds one layer of this package over next for the contract
// tests. origin is the server the tests send to, which Bearer must allow.
type layerCase struct {
	name  string
	build func(t *testing.T, next http.RoundTripper, origin string) http.RoundTripper
}

func contractLayers() []layerCase {
	return []layerCase{
		{name: "UserAgent", build: func(t *testing.T, next http.RoundTripper, origin string) http.RoundTripper {
			return UserAgent(next, testApp(t))
		}},
		{name: "Bearer", build: func(t *testing.T, next http.RoundTripper, origin string) http.RoundTripper {
			rt, err := Bearer(next, AllowOrigins(origin))
			require.NoError(t, err)
			return rt
		}},
		{name: "Usage", build: func(t *testing.T, next http.RoundTripper, origin string) http.RoundTripper {
			return Usage(next, &eventLog{})
		}},
		{name: "Chain", build: func(t *testing.T, next http.RoundTripper, origin string) http.RoundTripper {
			return Chain(next,
				func(rt http.RoundTripper) http.RoundTripper { return UserAgent(rt, testApp(t)) },
				func(rt http.RoundTripper) http.RoundTripper {
					b, err := Bearer(rt, AllowOrigins(origin))
					require.NoError(t, err)
					return b
				},
				func(rt http.RoundTripper) http.RoundTripper { return Usage(rt, &eventLog{}) },
			)
		}},
	}
}

// userContext returns a context with a credential and a product, as a
// request made on behalf of a signed-in user carries.
func userContext(t *testing.T, subject string) context.Context {
	t.Helper()
	ctx := authctx.NewContext(context.Background(), testCredential(subject, "https://adb-1.example"))
	return product.NewContext(ctx, testProduct(t, "chat"))
}

func TestLayersLeaveCallerRequestUnchanged(t *testing.T) {
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Seen-Authorization", r.Header.Get("Authorization"))
		w.Header().Set("X-Seen-User-Agent", r.Header.Get("User-Agent"))
		w.Header().Set("X-Seen-Body", string(body))
		_, _ = io.WriteString(w, chatJSON)
	}))

	for _, layer := range contractLayers() {
		t.Run(layer.name, func(t *testing.T) {
			rt := layer.build(t, newLoopbackTransport(t), srv.URL)

			req, err := http.NewRequestWithContext(userContext(t, "ada"), http.MethodPost, srv.URL+"/v1/chat/completions?q=1", strings.NewReader(`{"n":1}`))
			require.NoError(t, err)
			req.Header.Set("User-Agent", "databricks-sdk-go/0.100.0 go/1.26 os/linux")
			req.Header.Set("X-Custom", "kept")
			before := snapshotRequest(req)

			resp, err := rt.RoundTrip(req)
			require.NoError(t, err)
			_, err = io.Copy(io.Discard, resp.Body)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())

			requireUnchanged(t, before, req)
			assert.Equal(t, `{"n":1}`, resp.Header.Get("X-Seen-Body"))
		})
	}
}

func TestLayersCloseRequestBodyOnce(t *testing.T) {
	srv := newServer(t, chatJSONHandler())

	// closedURL is a loopback address on which nothing listens, so the
	// dial fails and http.Transport returns an error.
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closedURL := "http://" + listener.Addr().String()
	require.NoError(t, listener.Close())

	type path struct {
		name    string
		url     string
		ctx     func(t *testing.T) context.Context
		mutate  func(req *http.Request)
		wantErr bool
	}
	paths := []path{
		{name: "success", url: srv.URL + "/v1/chat/completions", ctx: func(t *testing.T) context.Context { return userContext(t, "ada") }},
		{name: "dial error", url: closedURL + "/v1/chat/completions", ctx: func(t *testing.T) context.Context { return userContext(t, "ada") }, wantErr: true},
		{name: "nil URL", url: srv.URL, ctx: func(t *testing.T) context.Context { return userContext(t, "ada") },
			mutate: func(req *http.Request) { req.URL = nil }, wantErr: true},
		{name: "nil header", url: srv.URL, ctx: func(t *testing.T) context.Context { return userContext(t, "ada") },
			mutate: func(req *http.Request) { req.Header = nil }, wantErr: true},
	}

	for _, layer := range contractLayers() {
		for _, p := range paths {
			t.Run(layer.name+"/"+p.name, func(t *testing.T) {
				origin := srv.URL
				if strings.HasPrefix(p.url, closedURL) {
					origin = closedURL
				}
				rt := layer.build(t, newLoopbackTransport(t), origin)

				body := newCountingBody(`{"n":1}`)
				req, err := http.NewRequestWithContext(p.ctx(t), http.MethodPost, p.url, body)
				require.NoError(t, err)
				if p.mutate != nil {
					p.mutate(req)
				}

				resp, err := rt.RoundTrip(req)
				if p.wantErr {
					require.Error(t, err)
					require.Nil(t, resp)
				} else {
					require.NoError(t, err)
					_, _ = io.Copy(io.Discard, resp.Body)
					require.NoError(t, resp.Body.Close())
				}

				// http.Transport may close the body on another goroutine
				// after RoundTrip returns, so wait for the first close.
				require.Eventually(t, func() bool { return body.closes.Load() >= 1 }, 5*time.Second, 5*time.Millisecond)
				time.Sleep(20 * time.Millisecond)
				assert.Equal(t, int32(1), body.closes.Load())
			})
		}
	}
}

func TestBearerClosesBodyWithoutCredential(t *testing.T) {
	rt, err := Bearer(roundTripFunc(func(*http.Request) (*http.Response, error) {
		t.Fatal("a request without a credential reached the base")
		return nil, nil
	}), AllowOrigins("https://a.example"))
	require.NoError(t, err)

	body := newCountingBody("x")
	req, err := http.NewRequest(http.MethodPost, "https://a.example/v1/chat/completions", body)
	require.NoError(t, err)

	resp, err := rt.RoundTrip(req)
	require.ErrorIs(t, err, authctx.ErrNoCredential)
	require.Nil(t, resp)
	assert.Equal(t, int32(1), body.closes.Load())
}

func TestLayersNilRequest(t *testing.T) {
	for _, layer := range contractLayers() {
		t.Run(layer.name, func(t *testing.T) {
			rt := layer.build(t, roundTripFunc(func(*http.Request) (*http.Response, error) {
				t.Fatal("a nil request reached the base")
				return nil, nil
			}), "https://a.example")

			resp, err := rt.RoundTrip(nil)
			require.ErrorContains(t, err, "transport: the request is nil")
			require.Nil(t, resp)
		})
	}
}

func TestLayersRejectNilResponse(t *testing.T) {
	for _, layer := range contractLayers() {
		t.Run(layer.name, func(t *testing.T) {
			base := roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, nil })
			rt := layer.build(t, base, "https://a.example")

			req, err := http.NewRequestWithContext(userContext(t, "ada"), http.MethodGet, "https://a.example/v1/models", nil)
			require.NoError(t, err)

			resp, err := rt.RoundTrip(req)
			require.ErrorContains(t, err, "returned a nil response and a nil error")
			require.Nil(t, resp)
		})
	}
}

func TestLayersDropResponseWithError(t *testing.T) {
	for _, layer := range contractLayers() {
		t.Run(layer.name, func(t *testing.T) {
			respBody := newCountingBody(chatJSON)
			baseErr := errors.New("base failed")
			base := roundTripFunc(func(req *http.Request) (*http.Response, error) {
				return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: respBody, Request: req}, baseErr
			})
			rt := layer.build(t, base, "https://a.example")

			req, err := http.NewRequestWithContext(userContext(t, "ada"), http.MethodGet, "https://a.example/v1/models", nil)
			require.NoError(t, err)

			resp, err := rt.RoundTrip(req)
			require.ErrorIs(t, err, baseErr)
			require.Nil(t, resp)
			assert.Equal(t, int32(1), respBody.closes.Load())
		})
	}
}

func TestLayersPassNilResponseBody(t *testing.T) {
	for _, layer := range contractLayers() {
		t.Run(layer.name, func(t *testing.T) {
			base := roundTripFunc(func(req *http.Request) (*http.Response, error) {
				h := http.Header{}
				h.Set("Content-Type", "application/json")
				return &http.Response{StatusCode: http.StatusOK, Header: h, Request: req}, nil
			})
			rt := layer.build(t, base, "https://a.example")

			req, err := http.NewRequestWithContext(userContext(t, "ada"), http.MethodGet, "https://a.example/v1/models", nil)
			require.NoError(t, err)
			resp, err := rt.RoundTrip(req)
			require.NoError(t, err)
			assert.Nil(t, resp.Body)

			// http.Client replaces a nil body with an empty one.
			client := &http.Client{Transport: rt}
			req, err = http.NewRequestWithContext(userContext(t, "ada"), http.MethodGet, "https://a.example/v1/models", nil)
			require.NoError(t, err)
			resp, err = client.Do(req)
			require.NoError(t, err)
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Empty(t, body)
			require.NoError(t, resp.Body.Close())
		})
	}
}

// upgradeHandler switches a request with "Upgrade: echo" to a raw
// connection that echoes every line it reads until the client closes it.
func upgradeHandler(t *testing.T) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "echo" {
			http.Error(w, "expected Upgrade: echo", http.StatusBadRequest)
			return
		}
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		defer conn.Close()

		_, _ = rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
		_ = rw.Flush()
		for {
			line, err := rw.ReadString('\n')
			if err != nil {
				return
			}
			_, _ = rw.WriteString("echo " + line)
			_ = rw.Flush()
		}
	})
}

func TestLayersKeepUpgradeBodyWritable(t *testing.T) {
	srv := newServer(t, upgradeHandler(t))

	for _, layer := range contractLayers() {
		t.Run(layer.name, func(t *testing.T) {
			rt := layer.build(t, newLoopbackTransport(t), srv.URL)

			req, err := http.NewRequestWithContext(userContext(t, "ada"), http.MethodGet, srv.URL+"/ws", nil)
			require.NoError(t, err)
			req.Header.Set("Connection", "Upgrade")
			req.Header.Set("Upgrade", "echo")

			resp, err := rt.RoundTrip(req)
			require.NoError(t, err)
			require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
			conn, ok := resp.Body.(io.ReadWriteCloser)
			require.True(t, ok, "the 101 body %T is not an io.ReadWriteCloser", resp.Body)
			defer conn.Close()

			_, err = io.WriteString(conn, "ping\n")
			require.NoError(t, err)
			line, err := bufio.NewReader(conn).ReadString('\n')
			require.NoError(t, err)
			assert.Equal(t, "echo ping\n", line)
		})
	}
}

func TestLayersFollowRedirectToOtherHost(t *testing.T) {
	target := newServer(t, chatJSONHandler())
	// localhost names the same loopback address as 127.0.0.1, but it is
	// another host to http.Client and to the origin checks.
	targetURL := strings.Replace(target.URL, "127.0.0.1", "localhost", 1)
	start := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, targetURL+"/v1/chat/completions", http.StatusFound)
	}))

	for _, layer := range contractLayers() {
		t.Run(layer.name, func(t *testing.T) {
			client := &http.Client{Transport: layer.build(t, newLoopbackTransport(t), start.URL)}

			req, err := http.NewRequestWithContext(userContext(t, "ada"), http.MethodGet, start.URL+"/v1/chat/completions", nil)
			require.NoError(t, err)
			resp, err := client.Do(req)
			require.NoError(t, err)
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())

			assert.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, chatJSON, string(body))
			assert.Equal(t, "localhost", resp.Request.URL.Hostname())
		})
	}
}

// idleCounter is a base RoundTripper that counts CloseIdleConnections calls.
type idleCounter struct {
	calls atomic.Int32
}

func (c *idleCounter) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("idleCounter sends nothing")
}

func (c *idleCounter) CloseIdleConnections() { c.calls.Add(1) }

func TestLayersForwardCloseIdleConnections(t *testing.T) {
	for _, layer := range contractLayers() {
		t.Run(layer.name, func(t *testing.T) {
			base := &idleCounter{}
			rt := layer.build(t, base, "https://a.example")

			(&http.Client{Transport: rt}).CloseIdleConnections()
			assert.Equal(t, int32(1), base.calls.Load())
		})
	}
}

func TestLayersResolveNilBasePerRequest(t *testing.T) {
	for _, layer := range contractLayers() {
		t.Run(layer.name, func(t *testing.T) {
			// The layer is built before httpmock replaces
			// http.DefaultTransport, so it only reaches the mock if it
			// resolves the nil base on each request.
			rt := layer.build(t, nil, "https://mock.example")

			httpmock.Activate(t)
			httpmock.RegisterResponder(http.MethodGet, "https://mock.example/v1/models", httpmock.NewStringResponder(http.StatusOK, `{"data":[]}`))

			req, err := http.NewRequestWithContext(userContext(t, "ada"), http.MethodGet, "https://mock.example/v1/models", nil)
			require.NoError(t, err)
			resp, err := rt.RoundTrip(req)
			require.NoError(t, err)
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())

			assert.Equal(t, `{"data":[]}`, string(body))
			assert.Equal(t, 1, httpmock.GetTotalCallCount())
		})
	}
}
