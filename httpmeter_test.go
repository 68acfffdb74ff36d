package httpmeter_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/httpmeter/httpmeter"
	"github.com/httpmeter/httpmeter/authctx"
	"github.com/httpmeter/httpmeter/internal/testservers"
	"github.com/httpmeter/httpmeter/product"
	"github.com/httpmeter/httpmeter/transport"
)

func TestNewRejectsZeroApp(t *testing.T) {
	stack, err := httpmeter.New(nil, httpmeter.Config{AllowedOrigins: []string{"https://a.example"}})

	assert.Nil(t, stack)
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "httpmeter: "), "error %q", err)
	assert.Contains(t, err.Error(), "Config.App")
	assert.Contains(t, err.Error(), "product.NewApp", "the error must name the fix")
}

func TestNewRejectsMalformedOrigins(t *testing.T) {
	for _, origin := range []string{
		"adb-123.example.net",
		"https://adb-123.example.net/api/2.0",
		"https://adb-123.example.net?o=1",
		"ftp://adb-123.example.net",
		"https://adb-123.example.net:99999",
		"https://",
	} {
		t.Run(origin, func(t *testing.T) {
			stack, err := httpmeter.New(nil, httpmeter.Config{
				App:            newApp(t),
				AllowedOrigins: []string{"https://ok.example", origin},
			})

			assert.Nil(t, stack)
			require.Error(t, err)
			assert.True(t, strings.HasPrefix(err.Error(), "httpmeter: "), "error %q", err)
			assert.Contains(t, err.Error(), "Config.AllowedOrigins")
			assert.Contains(t, err.Error(), origin, "the error must name the bad value")
		})
	}
}

func TestNewOriginErrorHidesPassword(t *testing.T) {
	_, err := httpmeter.New(nil, httpmeter.Config{
		App:            newApp(t),
		AllowedOrigins: []string{"https://user:s3cr3t-password@adb-123.example.net"},
	})

	require.Error(t, err)
	assert.NotContains(t, err.Error(), "s3cr3t-password")
}

func TestNewRejectsTypedNilProviderWithoutPanic(t *testing.T) {
	var provider *nilUnsafeProvider
	stack, err := httpmeter.New(nil, httpmeter.Config{App: newApp(t), Provider: provider})

	assert.Nil(t, stack)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "*httpmeter_test.nilUnsafeProvider")
}

// nilUnsafeProvider is a Provider whose methods dereference their receiver,
// so they panic when called on a nil pointer.
type nilUnsafeProvider struct{ name string }

func (p *nilUnsafeProvider) Name() string { return p.name }

func (p *nilUnsafeProvider) Credential(context.Context) (authctx.Credential, error) {
	return authctx.Credential{}, authctx.ErrNoCredential
}

func TestNewRejectsProviderWithoutOrigins(t *testing.T) {
	provider := authctx.Static(authctx.Credential{Token: "unused"})
	stack, err := httpmeter.New(nil, httpmeter.Config{App: newApp(t), Provider: provider})

	assert.Nil(t, stack)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Config.Provider")
	assert.Contains(t, err.Error(), "*authctx.StaticProvider", "the error must name the provider")
	assert.Contains(t, err.Error(), "Config.AllowedOrigins", "the error must name the fix")
}

// echoServer starts a server that records requests and responds with the
// project's chat completion body.
func echoServer(t *testing.T) *testservers.Server {
	t.Helper()
	body, err := readOwnBody(ownBodiesDir + "/openai-chat.json")
	require.NoError(t, err)
	server := testservers.NewServer(testservers.Replay(body))
	t.Cleanup(server.Close)
	return server
}

// get sends a GET to url with ctx through stack and reads the whole body.
func get(ctx context.Context, stack http.RoundTripper, url string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := (&http.Client{Transport: stack}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp, err
}

func TestNewWithoutOriginsSendsNoToken(t *testing.T) {
	server := echoServer(t)
	var events eventLog
	stack, err := httpmeter.New(newBaseTransport(t), httpmeter.Config{App: newApp(t), Recorder: &events})
	require.NoError(t, err)

	ctx := authctx.NewContext(t.Context(), authctx.Credential{Token: "token-of-alice"})
	_, err = get(ctx, stack, server.URL)
	require.NoError(t, err)

	requests := server.Requests()
	require.Len(t, requests, 1)
	assert.Empty(t, requests[0].Authorization(), "without allowed origins the stack authenticates nothing")
	assert.Equal(t, "acme/0.1.0", requests[0].UserAgent(), "a request without a product carries the App's token")
	assert.Len(t, events.Events(), 1, "metering does not depend on authentication")
}

func TestNewWithoutRecorderMetersNothing(t *testing.T) {
	server := echoServer(t)
	stack, err := httpmeter.New(newBaseTransport(t), httpmeter.Config{App: newApp(t), AllowedOrigins: []string{server.URL}})
	require.NoError(t, err)

	ctx := authctx.NewContext(t.Context(), authctx.Credential{Token: "token-of-alice"})
	resp, err := get(ctx, stack, server.URL)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	requests := server.Requests()
	require.Len(t, requests, 1)
	assert.Equal(t, "Bearer token-of-alice", requests[0].Authorization())
}

func TestNewUsesProviderWithoutContextCredential(t *testing.T) {
	server := echoServer(t)
	credential := authctx.Credential{Token: "token-of-service", Subject: "service@example.com", Host: server.URL}
	var events eventLog
	stack, err := httpmeter.New(newBaseTransport(t), httpmeter.Config{
		App:            newApp(t),
		AllowedOrigins: []string{server.URL},
		Provider:       authctx.Static(credential),
		Recorder:       &events,
	})
	require.NoError(t, err)

	_, err = get(t.Context(), stack, server.URL)
	require.NoError(t, err)

	requests := server.Requests()
	require.Len(t, requests, 1)
	assert.Equal(t, "Bearer token-of-service", requests[0].Authorization())
	recorded := events.Events()
	require.Len(t, recorded, 1)
	assert.Equal(t, "service@example.com", recorded[0].Credential.Subject, "the event carries the provider's credential")
	assert.Equal(t, authctx.MethodStatic, recorded[0].Credential.Method)
}

func TestNewFailsClosedWithoutCredential(t *testing.T) {
	server := echoServer(t)
	stack, err := httpmeter.New(newBaseTransport(t), httpmeter.Config{App: newApp(t), AllowedOrigins: []string{server.URL}})
	require.NoError(t, err)

	_, err = get(t.Context(), stack, server.URL)

	require.Error(t, err)
	assert.ErrorIs(t, err, authctx.ErrNoCredential)
	assert.Empty(t, server.Requests(), "a request without a credential must not be sent")
}

func TestNewKeepsTokenFromOtherOrigins(t *testing.T) {
	other := echoServer(t)
	allowed := testservers.NewServer(http.RedirectHandler(other.URL+"/moved", http.StatusFound))
	defer allowed.Close()

	stack, err := httpmeter.New(newBaseTransport(t), httpmeter.Config{App: newApp(t), AllowedOrigins: []string{allowed.URL}})
	require.NoError(t, err)

	ctx := authctx.NewContext(t.Context(), authctx.Credential{Token: "token-of-alice"})
	_, err = get(ctx, stack, allowed.URL+"/start")
	require.NoError(t, err)

	first := allowed.Requests()
	require.Len(t, first, 1)
	assert.Equal(t, "Bearer token-of-alice", first[0].Authorization())
	redirected := other.Requests()
	require.Len(t, redirected, 1)
	assert.Empty(t, redirected[0].Authorization(), "the token must not follow a redirect to another origin")
	assert.Equal(t, "acme/0.1.0", redirected[0].UserAgent(), "each redirect hop passes through the whole stack")
}

func TestNewAppliesLayerOptions(t *testing.T) {
	server := echoServer(t)
	stack, err := httpmeter.New(newBaseTransport(t), httpmeter.Config{
		App:                newApp(t),
		AllowedOrigins:     []string{server.URL},
		UserAgentMergeRule: transport.MergePrepend,
		BearerOptions:      []transport.BearerOption{transport.ReplaceAuthorization()},
	})
	require.NoError(t, err)

	ctx := authctx.NewContext(t.Context(), authctx.Credential{Token: "token-of-alice"})
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, server.URL, nil)
	require.NoError(t, err)
	req.Header.Set("User-Agent", "custom-client/1.0")
	req.Header.Set("Authorization", "Bearer stale-token")
	resp, err := stack.RoundTrip(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())

	requests := server.Requests()
	require.Len(t, requests, 1)
	assert.Equal(t, "acme/0.1.0 custom-client/1.0", requests[0].UserAgent())
	assert.Equal(t, "Bearer token-of-alice", requests[0].Authorization())
	assert.Equal(t, "Bearer stale-token", req.Header.Get("Authorization"), "the caller's request must not be modified")
}

// closeCounter is a RoundTripper that counts CloseIdleConnections calls.
type closeCounter struct {
	http.RoundTripper
	closes atomic.Int32
}

func (c *closeCounter) CloseIdleConnections() { c.closes.Add(1) }

func TestNewForwardsCloseIdleConnections(t *testing.T) {
	base := &closeCounter{RoundTripper: newBaseTransport(t)}
	stack, err := httpmeter.New(base, httpmeter.Config{
		App:            newApp(t),
		AllowedOrigins: []string{"https://a.example"},
		Recorder:       &eventLog{},
	})
	require.NoError(t, err)

	closer, ok := stack.(interface{ CloseIdleConnections() })
	require.True(t, ok, "the stack must implement CloseIdleConnections")
	closer.CloseIdleConnections()
	assert.Equal(t, int32(1), base.closes.Load())
}

func TestNewConfigChangesAfterNewHaveNoEffect(t *testing.T) {
	server := echoServer(t)
	origins := []string{server.URL}
	stack, err := httpmeter.New(newBaseTransport(t), httpmeter.Config{App: newApp(t), AllowedOrigins: origins})
	require.NoError(t, err)
	origins[0] = "https://elsewhere.example"

	ctx := authctx.NewContext(t.Context(), authctx.Credential{Token: "token-of-alice"})
	_, err = get(ctx, stack, server.URL)
	require.NoError(t, err)

	requests := server.Requests()
	require.Len(t, requests, 1)
	assert.Equal(t, "Bearer token-of-alice", requests[0].Authorization())
}

func TestNewProductFromContextWins(t *testing.T) {
	server := echoServer(t)
	app := newApp(t)
	stack, err := httpmeter.New(newBaseTransport(t), httpmeter.Config{App: app})
	require.NoError(t, err)

	ctx := product.NewContext(t.Context(), newProduct(t, app, "crew_gen"))
	_, err = get(ctx, stack, server.URL)
	require.NoError(t, err)

	requests := server.Requests()
	require.Len(t, requests, 1)
	assert.Equal(t, "acme_crew_gen/0.1.0", requests[0].UserAgent())
	parsed, err := product.ParseUserAgent(requests[0].UserAgent())
	require.NoError(t, err)
	assert.Equal(t, "crew_gen", parsed.Feature(), "a feature with '_' must round-trip through the header")
}

func TestNewReplaysBodyOnSameOriginRedirect(t *testing.T) {
	const requestBody = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}`
	var bodies requestBodies
	server := testservers.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		bodies.add(string(data))
		if r.URL.Path == "/old" {
			http.Redirect(w, r, "/new", http.StatusTemporaryRedirect)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer server.Close()

	stack, err := httpmeter.New(newBaseTransport(t), httpmeter.Config{App: newApp(t), AllowedOrigins: []string{server.URL}})
	require.NoError(t, err)
	ctx := authctx.NewContext(t.Context(), authctx.Credential{Token: "token-of-alice"})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, server.URL+"/old", strings.NewReader(requestBody))
	require.NoError(t, err)

	resp, err := (&http.Client{Transport: stack}).Do(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())

	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	assert.Equal(t, []string{requestBody, requestBody}, bodies.all(), "a 307 redirect must resend the whole body")
	requests := server.Requests()
	require.Len(t, requests, 2)
	for _, r := range requests {
		assert.Equal(t, "Bearer token-of-alice", r.Authorization(), "hop %s", r.Path)
	}
}

// requestBodies keeps the request bodies a handler received. It is safe for
// concurrent use.
type requestBodies struct {
	mu     sync.Mutex
	bodies []string
}

func (b *requestBodies) add(body string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.bodies = append(b.bodies, body)
}

func (b *requestBodies) all() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.bodies...)
}
