package authctx_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/databricks/databricks-sdk-go/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/httpmeter/httpmeter/authctx"
)

const (
	oauthClientID     = "sp-client-id"
	oauthClientSecret = "dose-oauth-secret-0123456789"
)

// tokenRequest is what a test token server received.
type tokenRequest struct {
	Method      string
	Path        string
	ContentType string
	Accept      string
	User        string
	Password    string
	Form        url.Values
}

// tokenServer is a loopback OAuth token endpoint that counts requests and
// issues "m2m-token-N" tokens, or replies with a fixed status and body.
type tokenServer struct {
	*httptest.Server

	calls       atomic.Int64
	expiresIn   int
	release     chan struct{} // when not nil, each request waits for it to close
	releaseOnce sync.Once

	mu       sync.Mutex
	requests []tokenRequest
	status   int
	body     string
}

func newTokenServer(t *testing.T) *tokenServer {
	ts := &tokenServer{expiresIn: 3600}
	ts.Server = httptest.NewServer(http.HandlerFunc(ts.serve))
	t.Cleanup(ts.Close)
	return ts
}

func (ts *tokenServer) serve(w http.ResponseWriter, r *http.Request) {
	n := ts.calls.Add(1)

	user, password, _ := r.BasicAuth()
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))

	ts.mu.Lock()
	ts.requests = append(ts.requests, tokenRequest{
		Method: r.Method, Path: r.URL.Path, ContentType: r.Header.Get("Content-Type"),
		Accept: r.Header.Get("Accept"), User: user, Password: password, Form: form,
	})
	status, fixedBody, release := ts.status, ts.body, ts.release
	ts.mu.Unlock()

	if release != nil {
		<-release
	}

	w.Header().Set("Content-Type", "application/json")
	if status != 0 {
		w.WriteHeader(status)
		_, _ = io.WriteString(w, fixedBody)
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{
		"access_token": fmt.Sprintf("m2m-token-%d", n),
		"token_type":   "Bearer",
		"expires_in":   ts.expiresIn,
	})
}

// holdRequests makes requests wait until openRequests, which the test's
// cleanup also calls, so a failed assertion cannot leave the server blocked.
func (ts *tokenServer) holdRequests(t *testing.T) {
	ts.release = make(chan struct{})
	t.Cleanup(ts.openRequests)
}

func (ts *tokenServer) openRequests() {
	ts.releaseOnce.Do(func() { close(ts.release) })
}

func (ts *tokenServer) reply(status int, body string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.status, ts.body = status, body
}

func (ts *tokenServer) lastRequest(t *testing.T) tokenRequest {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	require.NotEmpty(t, ts.requests)
	return ts.requests[len(ts.requests)-1]
}

func newOAuth(t *testing.T, ts *tokenServer, opts ...authctx.Option) *authctx.OAuthM2M {
	p, err := authctx.NewOAuthM2M(ts.URL, oauthClientID, oauthClientSecret, opts...)
	require.NoError(t, err)
	return p
}

func TestOAuthM2MTokenRequest(t *testing.T) {
	ts := newTokenServer(t)
	clock := newFakeClock()
	p := newOAuth(t, ts, authctx.WithClock(clock.Now))

	got, err := p.Credential(t.Context())
	require.NoError(t, err)

	assert.Equal(t, authctx.Credential{
		Token:   "m2m-token-1",
		Method:  authctx.MethodOAuthM2M,
		Subject: oauthClientID,
		Host:    ts.URL,
		Expiry:  clock.Now().Add(time.Hour),
	}, got)

	req := ts.lastRequest(t)
	assert.Equal(t, http.MethodPost, req.Method)
	assert.Equal(t, "/oidc/v1/token", req.Path)
	assert.Equal(t, "application/x-www-form-urlencoded", req.ContentType)
	assert.Equal(t, oauthClientID, req.User)
	assert.Equal(t, oauthClientSecret, req.Password)
	assert.Equal(t, url.Values{"grant_type": {"client_credentials"}, "scope": {"all-apis"}}, req.Form)
	assert.Equal(t, "oauth-m2m", p.Name())
	assert.True(t, p.Slow())
}

// noLoader keeps the SDK from reading the process environment and
// ~/.databrickscfg, so the comparison below uses only the fields set in code.
type noLoader struct{}

func (noLoader) Name() string                   { return "none" }
func (noLoader) Configure(*config.Config) error { return nil }

// TestOAuthM2MMatchesSDK sends one token request with the Databricks SDK's own
// M2M credentials and one with OAuthM2M, and compares what the server got.
func TestOAuthM2MMatchesSDK(t *testing.T) {
	ts := newTokenServer(t)
	mux := http.NewServeMux()
	mux.HandleFunc("/oidc/.well-known/oauth-authorization-server", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{
			"authorization_endpoint": "http://" + r.Host + "/oidc/v1/authorize",
			"token_endpoint":         "http://" + r.Host + "/oidc/v1/token",
		})
	})
	mux.HandleFunc("/oidc/v1/token", ts.serve)
	workspace := httptest.NewServer(mux)
	t.Cleanup(workspace.Close)

	// A client id and secret with characters that basic authentication
	// escapes, as golang.org/x/oauth2 does for the SDK.
	const clientID, clientSecret = "sp:id/1", "dose:secret+/=?"
	cfg := &config.Config{
		Host:         workspace.URL,
		ClientID:     clientID,
		ClientSecret: clientSecret,
		Credentials:  config.M2mCredentials{},
		Loaders:      []config.Loader{noLoader{}},
	}
	sdkRequest, err := http.NewRequest(http.MethodGet, workspace.URL+"/api/2.0/clusters/list", nil)
	require.NoError(t, err)
	require.NoError(t, cfg.Authenticate(sdkRequest))
	assert.Equal(t, "Bearer m2m-token-1", sdkRequest.Header.Get("Authorization"))
	fromSDK := ts.lastRequest(t)

	p, err := authctx.NewOAuthM2M(workspace.URL, clientID, clientSecret)
	require.NoError(t, err)
	got, err := p.Credential(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "m2m-token-2", got.Token)
	fromProvider := ts.lastRequest(t)

	assert.Equal(t, fromSDK.Method, fromProvider.Method)
	assert.Equal(t, fromSDK.Path, fromProvider.Path)
	assert.Equal(t, fromSDK.ContentType, fromProvider.ContentType)
	assert.Equal(t, fromSDK.User, fromProvider.User)
	assert.Equal(t, fromSDK.Password, fromProvider.Password)
	assert.Equal(t, fromSDK.Form, fromProvider.Form)
}

func TestOAuthM2MRefreshBeforeExpiry(t *testing.T) {
	ts := newTokenServer(t)
	ts.expiresIn = 60
	clock := newFakeClock()
	p := newOAuth(t, ts, authctx.WithClock(clock.Now), authctx.WithRefreshLeeway(10*time.Second))

	first, err := p.Credential(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "m2m-token-1", first.Token)

	clock.Advance(49 * time.Second)
	cached, err := p.Credential(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "m2m-token-1", cached.Token, "outside the leeway the token is reused")
	assert.Equal(t, int64(1), ts.calls.Load())

	clock.Advance(2 * time.Second)
	require.False(t, first.Expired(clock.Now()), "the old token is still valid")
	refreshed, err := p.Credential(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "m2m-token-2", refreshed.Token, "inside the leeway the token is replaced before it expires")
	assert.Equal(t, int64(2), ts.calls.Load())
}

func TestOAuthM2MConcurrentSingleRequest(t *testing.T) {
	ts := newTokenServer(t)
	ts.holdRequests(t)
	p := newOAuth(t, ts)

	const callers = 100
	var wg sync.WaitGroup
	tokens := make([]string, callers)
	errs := make([]error, callers)
	for i := range callers {
		wg.Go(func() {
			c, err := p.Credential(t.Context())
			tokens[i], errs[i] = c.Token, err
		})
	}

	require.Eventually(t, func() bool { return ts.calls.Load() >= 1 }, 5*time.Second, time.Millisecond)
	time.Sleep(20 * time.Millisecond) // let late callers reach the shared request
	ts.openRequests()
	wg.Wait()

	assert.Equal(t, int64(1), ts.calls.Load())
	for i := range callers {
		require.NoError(t, errs[i])
		assert.Equal(t, "m2m-token-1", tokens[i])
	}
}

func TestOAuthM2MErrorStatusAndCode(t *testing.T) {
	ts := newTokenServer(t)
	ts.reply(http.StatusUnauthorized, `{"error":"invalid_client","error_description":"Client authentication failed for secret `+oauthClientSecret+`"}`)
	p := newOAuth(t, ts)

	_, err := p.Credential(t.Context())
	require.Error(t, err)

	var oauthErr *authctx.OAuthError
	require.ErrorAs(t, err, &oauthErr)
	assert.Equal(t, http.StatusUnauthorized, oauthErr.StatusCode)
	assert.Equal(t, "invalid_client", oauthErr.Code)
	assert.Equal(t, oauthClientID, oauthErr.ClientID)
	assert.Contains(t, err.Error(), "HTTP 401")
	assert.Contains(t, err.Error(), "invalid_client")
	assert.NotContains(t, err.Error(), oauthClientSecret)
	assert.False(t, errorIsNoCredential(err), "a rejected client must stop a chain")
}

func TestOAuthM2MBadResponses(t *testing.T) {
	cases := []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"no access token", 200, `{"token_type":"Bearer","expires_in":60}`, "has no access_token"},
		{"not json", 200, `<html>m2m-token-secret</html>`, "is not a valid token response"},
		{"wrong token type", 200, `{"access_token":"m2m-token-secret","token_type":"mac"}`, `token_type "mac"`},
		{"bad expires_in", 200, `{"access_token":"m2m-token-secret","expires_in":"soon"}`, "invalid expires_in (4 bytes)"},
		{"error in 200", 200, `{"error":"temporarily_unavailable"}`, "OAuth error temporarily_unavailable"},
		{"500 without body", 500, ``, "HTTP 500, OAuth error none"},
		{"odd error code", 400, `{"error":"bad\ncode"}`, "OAuth error invalid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTokenServer(t)
			ts.reply(tc.status, tc.body)

			_, err := newOAuth(t, ts).Credential(t.Context())

			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "m2m-token-secret")
			assert.NotContains(t, err.Error(), oauthClientSecret)
		})
	}
}

func TestOAuthM2MExpiresInString(t *testing.T) {
	ts := newTokenServer(t)
	ts.reply(200, `{"access_token":"m2m-token-s","token_type":"bearer","expires_in":"120"}`)
	clock := newFakeClock()

	got, err := newOAuth(t, ts, authctx.WithClock(clock.Now)).Credential(t.Context())

	require.NoError(t, err)
	assert.Equal(t, clock.Now().Add(120*time.Second), got.Expiry)
}

func TestOAuthM2MKeepsValidTokenOnFailedRefresh(t *testing.T) {
	ts := newTokenServer(t)
	ts.expiresIn = 60
	clock := newFakeClock()
	p := newOAuth(t, ts, authctx.WithClock(clock.Now), authctx.WithRefreshLeeway(30*time.Second))

	first, err := p.Credential(t.Context())
	require.NoError(t, err)

	ts.reply(http.StatusServiceUnavailable, `{"error":"temporarily_unavailable"}`)
	clock.Advance(45 * time.Second)
	stillValid, err := p.Credential(t.Context())
	require.NoError(t, err)
	assert.Equal(t, first.Token, stillValid.Token)
	assert.Equal(t, int64(2), ts.calls.Load(), "a refresh was attempted")

	clock.Advance(4 * time.Second)
	_, err = p.Credential(t.Context())
	require.NoError(t, err)
	assert.Equal(t, int64(2), ts.calls.Load(), "no retry within the negative TTL")

	clock.Advance(time.Second)
	_, err = p.Credential(t.Context())
	require.NoError(t, err)
	assert.Equal(t, int64(3), ts.calls.Load(), "a retry after the negative TTL")

	clock.Advance(10 * time.Second)
	_, err = p.Credential(t.Context())
	var oauthErr *authctx.OAuthError
	require.ErrorAs(t, err, &oauthErr, "an expired token is never returned")
	assert.Equal(t, http.StatusServiceUnavailable, oauthErr.StatusCode)
}

func TestOAuthM2MCallerCancelled(t *testing.T) {
	ts := newTokenServer(t)
	ts.holdRequests(t)
	p := newOAuth(t, ts)

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := p.Credential(ctx)
		done <- err
	}()
	require.Eventually(t, func() bool { return ts.calls.Load() >= 1 }, 5*time.Second, time.Millisecond)

	cancel()
	err := <-done
	require.ErrorIs(t, err, context.Canceled)

	// The shared request was not cancelled with the caller, so its token is
	// cached for the next one.
	ts.openRequests()
	require.Eventually(t, func() bool {
		c, err := p.Credential(t.Context())
		return err == nil && c.Token == "m2m-token-1"
	}, 5*time.Second, time.Millisecond)
	assert.Equal(t, int64(1), ts.calls.Load())
}

// contextCheckingTransport records what the context of each request carried.
type contextCheckingTransport struct {
	mu          sync.Mutex
	marked      []bool
	slowAllowed []bool
	credential  []bool
	hasDeadline []bool
}

type markKey struct{}

func (c *contextCheckingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	_, hasCredential := authctx.FromContext(ctx)
	_, hasDeadline := ctx.Deadline()

	c.mu.Lock()
	c.marked = append(c.marked, ctx.Value(markKey{}) == true)
	c.slowAllowed = append(c.slowAllowed, authctx.SlowProvidersAllowed(ctx))
	c.credential = append(c.credential, hasCredential)
	c.hasDeadline = append(c.hasDeadline, hasDeadline)
	c.mu.Unlock()

	return http.DefaultTransport.RoundTrip(req)
}

func TestOAuthM2MRequestContext(t *testing.T) {
	ts := newTokenServer(t)
	checker := &contextCheckingTransport{}
	p := newOAuth(t, ts,
		authctx.WithHTTPClient(&http.Client{Transport: checker}),
		authctx.WithRequestContext(func(ctx context.Context) context.Context {
			return context.WithValue(ctx, markKey{}, true)
		}),
	)

	userCtx := authctx.NewContext(t.Context(), testCredential())
	_, err := p.Credential(userCtx)
	require.NoError(t, err)

	checker.mu.Lock()
	defer checker.mu.Unlock()
	assert.Equal(t, []bool{true}, checker.marked, "WithRequestContext was applied")
	assert.Equal(t, []bool{false}, checker.slowAllowed, "the request cannot re-enter slow providers")
	assert.Equal(t, []bool{false}, checker.credential, "the user's credential is not sent along")
	assert.Equal(t, []bool{true}, checker.hasDeadline, "the request timeout applies")
}

func TestOAuthM2MConstructorErrors(t *testing.T) {
	cases := []struct {
		name             string
		host, id, secret string
		opts             []authctx.Option
		want             string
	}{
		{"empty host", "", oauthClientID, oauthClientSecret, nil, "workspace host is empty"},
		{"bad host", "https://:1", oauthClientID, oauthClientSecret, nil, "invalid workspace host"},
		{"empty id", "https://h", "", oauthClientSecret, nil, "client id is empty"},
		{"empty secret", "https://h", oauthClientID, "", nil, "client secret"},
		{"negative leeway", "https://h", oauthClientID, oauthClientSecret, []authctx.Option{authctx.WithRefreshLeeway(-time.Second)}, "refresh leeway -1s is negative"},
		{"zero timeout", "https://h", oauthClientID, oauthClientSecret, []authctx.Option{authctx.WithTokenRequestTimeout(0)}, "token request timeout 0s is not positive"},
		{"negative retry wait", "https://h", oauthClientID, oauthClientSecret, []authctx.Option{authctx.WithNegativeTTL(-time.Second)}, "negative TTL -1s is negative"},
		{"token url with user", "https://h", oauthClientID, oauthClientSecret, []authctx.Option{authctx.WithTokenURL("https://u:p@h/t")}, "invalid token URL"},
		{"token url scheme", "https://h", oauthClientID, oauthClientSecret, []authctx.Option{authctx.WithTokenURL("ftp://h/t")}, "invalid token URL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := authctx.NewOAuthM2M(tc.host, tc.id, tc.secret, tc.opts...)

			require.Error(t, err)
			assert.Nil(t, p)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), oauthClientSecret)
		})
	}
}

func TestOAuthM2MTokenURLOption(t *testing.T) {
	ts := newTokenServer(t)
	p, err := authctx.NewOAuthM2M("https://adb-1.azuredatabricks.net", oauthClientID, oauthClientSecret,
		authctx.WithTokenURL(ts.URL+"/custom/token"), authctx.WithScopes("sql", "all-apis"))
	require.NoError(t, err)

	got, err := p.Credential(t.Context())
	require.NoError(t, err)

	assert.Equal(t, "https://adb-1.azuredatabricks.net", got.Host)
	req := ts.lastRequest(t)
	assert.Equal(t, "/custom/token", req.Path)
	assert.Equal(t, "sql all-apis", req.Form.Get("scope"))
}

func TestOAuthM2MShortLivedToken(t *testing.T) {
	ts := newTokenServer(t)
	ts.expiresIn = 30
	clock := newFakeClock()
	p := newOAuth(t, ts, authctx.WithClock(clock.Now), authctx.WithRefreshLeeway(time.Minute))

	for range 5 {
		_, err := p.Credential(t.Context())
		require.NoError(t, err)
	}
	assert.Equal(t, int64(1), ts.calls.Load(), "a leeway longer than the lifetime does not refresh on every call")

	clock.Advance(15 * time.Second)
	got, err := p.Credential(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "m2m-token-2", got.Token, "the token is replaced halfway through its lifetime")
}
