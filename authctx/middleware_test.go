package authctx_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/httpmeter/httpmeter/authctx"
)

const forwardedToken = "eyJhbGciOiJSUzI1NiJ9.forwarded-user-token.sig"

// seen is what a handler behind the middleware observed.
type seen struct {
	credential    authctx.Credential
	hasCredential bool
	identity      authctx.Identity
	reason        error
	tokenHeader   []string
	emailHeader   string
}

func recordingHandler(out *seen) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out.credential, out.hasCredential = authctx.FromContext(r.Context())
		out.identity, out.reason = authctx.IdentityFromContext(r.Context())
		out.tokenHeader = r.Header.Values(authctx.HeaderForwardedAccessToken)
		out.emailHeader = r.Header.Get(authctx.HeaderForwardedEmail)
		w.WriteHeader(http.StatusNoContent)
	})
}

func forwardedRequest(t *testing.T) *http.Request {
	r := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/", nil)
	r.Header.Set("X-Forwarded-Access-Token", forwardedToken)
	r.Header.Set("X-Forwarded-Email", "ada@example.com")
	r.Header.Set("X-Forwarded-User", "12345@6789")
	r.Header.Set("X-Forwarded-Preferred-Username", "ada")
	r.Header.Set("X-Request-Id", "req-1")
	return r
}

func TestMiddlewareTrusted(t *testing.T) {
	var out seen
	h := authctx.Middleware(recordingHandler(&out),
		authctx.TrustForwardedHeaders(), authctx.WithWorkspaceHost("adb-123.azuredatabricks.net/"))

	req := forwardedRequest(t)
	h.ServeHTTP(httptest.NewRecorder(), req)

	require.True(t, out.hasCredential)
	assert.Equal(t, authctx.Credential{
		Token:   forwardedToken,
		Method:  authctx.MethodOnBehalfOf,
		Subject: "ada@example.com",
		Host:    "https://adb-123.azuredatabricks.net",
	}, out.credential)
	require.NoError(t, out.reason)
	assert.Equal(t, authctx.Identity{Email: "ada@example.com", User: "12345@6789", PreferredUsername: "ada", RequestID: "req-1"}, out.identity)
	assert.Empty(t, out.tokenHeader, "the token header is removed before the handler")
	assert.Equal(t, "ada@example.com", out.emailHeader)
	assert.Equal(t, forwardedToken, req.Header.Get(authctx.HeaderForwardedAccessToken), "the caller's request is not changed")
}

func TestMiddlewareUntrusted(t *testing.T) {
	var out seen
	h := authctx.Middleware(recordingHandler(&out), authctx.WithWorkspaceHost("https://adb-123.azuredatabricks.net"))

	outer := authctx.NewContext(t.Context(), authctx.Credential{Token: "outer-token"})
	h.ServeHTTP(httptest.NewRecorder(), forwardedRequest(t).WithContext(outer))

	assert.False(t, out.hasCredential, "neither the header nor an outer credential reaches the handler")
	require.ErrorIs(t, out.reason, authctx.ErrUntrusted)
	assert.Equal(t, authctx.Identity{}, out.identity)
	assert.Empty(t, out.tokenHeader, "the token header is removed even when not trusted")
}

func TestMiddlewareTokenHeaderProblems(t *testing.T) {
	cases := []struct {
		name   string
		tokens []string
		want   error
	}{
		{"missing", nil, authctx.ErrTokenHeaderMissing},
		{"empty", []string{""}, authctx.ErrTokenHeaderMissing},
		{"two values", []string{"tok-a", "tok-b"}, authctx.ErrTokenHeaderInvalid},
		{"space", []string{"Bearer tok"}, authctx.ErrTokenHeaderInvalid},
		{"padding inside", []string{"ab=cd"}, authctx.ErrTokenHeaderInvalid},
		{"only padding", []string{"=="}, authctx.ErrTokenHeaderInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out seen
			h := authctx.Middleware(recordingHandler(&out), authctx.TrustForwardedHeaders())
			req := forwardedRequest(t)
			req.Header.Del(authctx.HeaderForwardedAccessToken)
			for _, token := range tc.tokens {
				req.Header.Add(authctx.HeaderForwardedAccessToken, token)
			}

			h.ServeHTTP(httptest.NewRecorder(), req)

			assert.False(t, out.hasCredential)
			require.ErrorIs(t, out.reason, tc.want)
			assert.Equal(t, "ada@example.com", out.identity.Email, "trusted identity headers are still read")
			assert.Empty(t, out.tokenHeader)
		})
	}
}

func TestMiddlewareValidTokenShapes(t *testing.T) {
	for _, token := range []string{"dapi0123abcdef", "a.b_c-d~e+f/g==", "x="} {
		t.Run(token, func(t *testing.T) {
			var out seen
			h := authctx.Middleware(recordingHandler(&out), authctx.TrustForwardedHeaders())
			req := forwardedRequest(t)
			req.Header.Set(authctx.HeaderForwardedAccessToken, token)

			h.ServeHTTP(httptest.NewRecorder(), req)

			require.NoError(t, out.reason)
			assert.Equal(t, token, out.credential.Token)
		})
	}
}

func TestMiddlewareSubjectFallback(t *testing.T) {
	var out seen
	h := authctx.Middleware(recordingHandler(&out), authctx.TrustForwardedHeaders())
	req := forwardedRequest(t)
	req.Header.Del("X-Forwarded-Email")
	req.Header.Del("X-Forwarded-Preferred-Username")

	h.ServeHTTP(httptest.NewRecorder(), req)

	assert.Equal(t, "12345@6789", out.credential.Subject)
	assert.Empty(t, out.credential.Host, "without WithWorkspaceHost the host is unknown")
}

func TestMiddlewareInvalidWorkspaceHost(t *testing.T) {
	var logs bytes.Buffer
	var out seen
	h := authctx.Middleware(recordingHandler(&out),
		authctx.TrustForwardedHeaders(),
		authctx.WithWorkspaceHost("https://:443"),
		authctx.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))

	h.ServeHTTP(httptest.NewRecorder(), forwardedRequest(t))

	assert.False(t, out.hasCredential, "fails closed")
	require.ErrorIs(t, out.reason, authctx.ErrInvalidWorkspaceHost)
	assert.Contains(t, logs.String(), "workspace host is invalid")
	assert.NotContains(t, logs.String(), forwardedToken)
}

func TestIdentityWithoutMiddleware(t *testing.T) {
	_, err := authctx.IdentityFromContext(t.Context())
	require.ErrorIs(t, err, authctx.ErrNoIdentity)

	id, err := authctx.IdentityFromContext(authctx.NewIdentityContext(t.Context(), authctx.Identity{Email: "e@x"}))
	require.NoError(t, err)
	assert.Equal(t, "e@x", id.Subject())
}

// TestMiddlewareOverLoopback sends real requests through a loopback server, so
// the headers pass through net/http's parsing as in production.
func TestMiddlewareOverLoopback(t *testing.T) {
	h := authctx.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := authctx.FromContext(r.Context())
		if !ok {
			http.Error(w, "no credential", http.StatusUnauthorized)
			return
		}
		_, _ = io.WriteString(w, c.Subject+" "+r.Header.Get(authctx.HeaderForwardedAccessToken))
	}), authctx.TrustForwardedHeaders())
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
	require.NoError(t, err)
	req.Header.Set("X-Forwarded-Access-Token", forwardedToken)
	req.Header.Set("X-Forwarded-Email", "ada@example.com")
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())

	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "ada@example.com ", string(body))

	bare, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
	require.NoError(t, err)
	resp, err = srv.Client().Do(bare)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

func TestMiddlewareNilNext(t *testing.T) {
	rec := httptest.NewRecorder()

	authctx.Middleware(nil, authctx.TrustForwardedHeaders()).ServeHTTP(rec, forwardedRequest(t))

	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	assert.NotContains(t, rec.Body.String(), forwardedToken)
}
