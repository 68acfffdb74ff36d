package authctx_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/httpmeter/httpmeter/authctx"
)

// distinctToken and distinctSecret are distinctive strings, so a check that they
// are absent from some output cannot pass by accident.
const (
	distinctToken  = "dapiDISTINCTTOKEN0123456789abcdef"
	distinctSecret = "DISTINCTSECRETdoseqwert0987"
)

// TestNormalizeHostOddHosts holds NormalizeHost to the Databricks SDK's
// fixHostIfNeeded: scheme added when missing, only scheme, host and port
// kept, host name case and a trailing dot left as given.
func TestNormalizeHostOddHosts(t *testing.T) {
	tests := []struct {
		host string
		want string
	}{
		{host: "", want: ""},
		{host: "adb-1.azuredatabricks.net", want: "https://adb-1.azuredatabricks.net"},
		{host: "adb-1.azuredatabricks.net.", want: "https://adb-1.azuredatabricks.net."},
		{host: "HTTPS://ADB-1.Example.COM/", want: "https://ADB-1.Example.COM"},
		{host: "http://127.0.0.1:8080/path?q=1#frag", want: "http://127.0.0.1:8080"},
		{host: "localhost:8080", want: "https://localhost:8080"},
		{host: "https://[::1]:8443/api/2.0", want: "https://[::1]:8443"},
		{host: "https://[fe80::1%25en0]:443", want: "https://[fe80::1%25en0]:443"},
		{host: "user:pass@adb-1.net/x", want: "https://adb-1.net"},
		{host: "https://user:pass@adb-1.net:443", want: "https://adb-1.net:443"},
	}
	for _, tt := range tests {
		got, err := authctx.NormalizeHost(tt.host)
		require.NoError(t, err, "host %q", tt.host)
		assert.Equal(t, tt.want, got, "host %q", tt.host)
	}
}

// TestNormalizeHostRejectsNoHostName checks values without a host name,
// and an IPv6 literal without a scheme, which url.Parse reads as a path with
// a colon.
func TestNormalizeHostRejectsNoHostName(t *testing.T) {
	for _, host := range []string{"https://", "https://:443", "https://user:pw@", "[::1]:8443", "http://a b"} {
		got, err := authctx.NormalizeHost(host)
		if !assert.Error(t, err, "host %q returned %q", host, got) {
			continue
		}
		assert.Empty(t, got, "host %q", host)
		assert.True(t, strings.HasPrefix(err.Error(), "authctx: "), "error %q has no package prefix", err)
	}
}

// TestNormalizeHostHidesPassword checks that no error quotes a password
// from the user information, including a password with '/' in it, which ends
// the authority for url.Parse and so becomes an invalid port.
func TestNormalizeHostHidesPassword(t *testing.T) {
	hosts := []string{
		"https://admin:" + distinctSecret + "@host:notaport",
		"https://admin:" + distinctSecret + "/x@adb-1.net",
		"admin:" + distinctSecret + "/x@adb-1.net",
	}
	for _, host := range hosts {
		_, err := authctx.NormalizeHost(host)
		require.Error(t, err, "host %q", host)
		assert.NotContains(t, err.Error(), distinctSecret, "host %q", host)
	}
}

// TestCredentialFormsHideToken prints a credential in every way the
// package documents as safe and checks the token is absent.
func TestCredentialFormsHideToken(t *testing.T) {
	c := authctx.Credential{
		Token:   distinctToken,
		Method:  authctx.MethodPAT,
		Subject: "ana@example.com",
		Host:    "https://adb-1.net",
		Expiry:  time.Date(2026, 12, 5, 1, 0, 0, 0, time.UTC),
	}
	type holder struct {
		Credential authctx.Credential
		Pointer    *authctx.Credential
	}

	values := []any{c, &c, []authctx.Credential{c}, map[string]authctx.Credential{"k": c}, holder{Credential: c, Pointer: &c}}
	for _, value := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%20v", "%-8s"} {
			out := fmt.Sprintf(verb, value)
			assert.NotContains(t, out, distinctToken, "verb %s on %T", verb, value)
		}

		encoded, err := json.Marshal(value)
		require.NoError(t, err)
		assert.NotContains(t, string(encoded), distinctToken, "JSON of %T", value)
	}

	var logs bytes.Buffer
	textLogger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	jsonLogger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	for _, logger := range []*slog.Logger{textLogger, jsonLogger} {
		logger.Info("credential", "value", c, "pointer", &c, "holder", holder{Credential: c, Pointer: &c})
	}
	assert.NotContains(t, logs.String(), distinctToken)

	wrapped := fmt.Errorf("request failed for %v: %w", c, errors.New("boom"))
	assert.NotContains(t, wrapped.Error(), distinctToken)
}

// TestEnvProviderZeroValue calls a zero EnvProvider. Its siblings
// (StaticProvider, StoredToken, OAuthM2M) return an error in that case.
func TestEnvProviderZeroValue(t *testing.T) {
	var zero authctx.EnvProvider
	assert.NotPanics(t, func() {
		_, err := zero.Credential(context.Background())
		assert.Error(t, err)
	})

	var nilProvider *authctx.EnvProvider
	assert.NotPanics(t, func() {
		_, err := nilProvider.Credential(context.Background())
		assert.Error(t, err)
	})
}

// TestProviderChainZeroValue resolves with a zero and a nil chain.
func TestProviderChainZeroValue(t *testing.T) {
	var zero authctx.ProviderChain
	assert.NotPanics(t, func() {
		_, _, err := zero.Resolve(context.Background())
		assert.ErrorIs(t, err, authctx.ErrNoCredential)
	})

	var nilChain *authctx.ProviderChain
	assert.NotPanics(t, func() {
		_, err := nilChain.Credential(context.Background())
		assert.Error(t, err)
	})
}

// TestNilContextsNeverPanic calls the context-taking functions of the
// package with a nil context, which the package documentation promises is
// safe.
func TestNilContextsNeverPanic(t *testing.T) {
	//nolint:staticcheck // A nil context is the case under test.
	var nilCtx context.Context

	assert.NotPanics(t, func() {
		_, ok := authctx.FromContext(nilCtx)
		assert.False(t, ok)

		ctx := authctx.NewContext(nilCtx, authctx.Credential{Token: distinctToken})
		got, ok := authctx.FromContext(ctx)
		assert.True(t, ok)
		assert.Equal(t, distinctToken, got.Token)

		assert.NotNil(t, authctx.Detach(nilCtx))
		assert.NotNil(t, authctx.WithoutSlowProviders(nilCtx))
		assert.True(t, authctx.SlowProvidersAllowed(nilCtx))

		_, err := authctx.IdentityFromContext(nilCtx)
		assert.ErrorIs(t, err, authctx.ErrNoIdentity)

		_, err = authctx.FromContextProvider{}.Credential(nilCtx)
		assert.ErrorIs(t, err, authctx.ErrNoCredential)

		_, _, err = authctx.Chain(authctx.FromContextProvider{}).Resolve(nilCtx)
		assert.ErrorIs(t, err, authctx.ErrNoCredential)

		group, groupCtx := authctx.WithGroup(nilCtx)
		assert.NotNil(t, groupCtx)
		group.Go(func(context.Context) error { return nil })
		assert.NoError(t, group.Wait())
	})

	done := make(chan bool, 1)
	authctx.Go(nilCtx, func(ctx context.Context) {
		_, ok := authctx.FromContext(ctx)
		done <- ok
	})
	assert.False(t, <-done)
}

// TestMiddlewareMalformedTokenHeaders sends token headers the proxy
// would never send and checks that none becomes a credential, none reaches
// the handler's headers, and none appears in the debug log.
func TestMiddlewareMalformedTokenHeaders(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		reason error
	}{
		{name: "absent", values: nil, reason: authctx.ErrTokenHeaderMissing},
		{name: "empty", values: []string{""}, reason: authctx.ErrTokenHeaderMissing},
		{name: "bearer prefix", values: []string{"Bearer " + distinctToken}, reason: authctx.ErrTokenHeaderInvalid},
		{name: "two values", values: []string{distinctToken, distinctToken + "x"}, reason: authctx.ErrTokenHeaderInvalid},
		{name: "empty then token", values: []string{"", distinctToken}, reason: authctx.ErrTokenHeaderInvalid},
		{name: "padding inside", values: []string{distinctToken + "=x"}, reason: authctx.ErrTokenHeaderInvalid},
		{name: "only padding", values: []string{"=="}, reason: authctx.ErrTokenHeaderInvalid},
		{name: "non-ASCII", values: []string{distinctToken + "é"}, reason: authctx.ErrTokenHeaderInvalid},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

			var (
				gotCredential bool
				gotHeader     []string
				gotReason     error
			)
			next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, gotCredential = authctx.FromContext(r.Context())
				gotHeader = r.Header.Values(authctx.HeaderForwardedAccessToken)
				_, gotReason = authctx.IdentityFromContext(r.Context())
			})
			handler := authctx.Middleware(next, authctx.TrustForwardedHeaders(),
				authctx.WithWorkspaceHost("adb-1.net"), authctx.WithLogger(logger))

			req := httptest.NewRequest(http.MethodGet, "/", nil)
			outer := authctx.NewContext(req.Context(), authctx.Credential{Token: "outer" + distinctToken})
			req = req.WithContext(outer)
			for _, v := range tt.values {
				req.Header.Add(authctx.HeaderForwardedAccessToken, v)
			}
			handler.ServeHTTP(httptest.NewRecorder(), req)

			assert.False(t, gotCredential, "a malformed header became a credential")
			assert.Empty(t, gotHeader, "the token header reached the handler")
			assert.ErrorIs(t, gotReason, tt.reason)
			assert.NotContains(t, logs.String(), distinctToken)
		})
	}
}

// TestMiddlewareUntrustedIgnoresHeaders checks that without
// TrustForwardedHeaders a forwarded token neither becomes a credential nor
// reaches the handler, and that an outer credential is hidden.
func TestMiddlewareUntrustedIgnoresHeaders(t *testing.T) {
	var (
		gotCredential bool
		gotHeader     string
		gotIdentity   authctx.Identity
		gotReason     error
	)
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, gotCredential = authctx.FromContext(r.Context())
		gotHeader = r.Header.Get(authctx.HeaderForwardedAccessToken)
		gotIdentity, gotReason = authctx.IdentityFromContext(r.Context())
	})

	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req = req.WithContext(authctx.NewContext(req.Context(), authctx.Credential{Token: "outer" + distinctToken}))
	req.Header.Set(authctx.HeaderForwardedAccessToken, distinctToken)
	req.Header.Set(authctx.HeaderForwardedEmail, "mallory@example.com")
	authctx.Middleware(next).ServeHTTP(httptest.NewRecorder(), req)

	assert.False(t, gotCredential)
	assert.Empty(t, gotHeader)
	assert.Equal(t, authctx.Identity{}, gotIdentity)
	assert.ErrorIs(t, gotReason, authctx.ErrUntrusted)
	assert.Equal(t, distinctToken, req.Header.Get(authctx.HeaderForwardedAccessToken), "the caller's request should be left unchanged")

	recorder := httptest.NewRecorder()
	authctx.Middleware(nil).ServeHTTP(recorder, httptest.NewRequest(http.MethodGet, "/", nil))
	assert.Equal(t, http.StatusInternalServerError, recorder.Code)
}

// TestMiddlewareConcurrentUsers sends many users' requests at once
// through a loopback server and checks that each handler receives only its own token.
func TestMiddlewareConcurrentUsers(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := authctx.FromContext(r.Context())
		if !ok {
			http.Error(w, "no credential", http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, "%s %s %s", c.Subject, c.Token, c.Host)
	})
	server := httptest.NewServer(authctx.Middleware(next, authctx.TrustForwardedHeaders(), authctx.WithWorkspaceHost("adb-1.net")))
	t.Cleanup(server.Close)

	const users = 40
	var wg sync.WaitGroup
	mismatches := make(chan string, users*5)
	for i := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 5 {
				email := fmt.Sprintf("user%d@example.com", i)
				token := fmt.Sprintf("tok%dx%d", i, j)

				req, err := http.NewRequest(http.MethodGet, server.URL, nil)
				if err != nil {
					mismatches <- err.Error()
					return
				}
				req.Header.Set(authctx.HeaderForwardedAccessToken, token)
				req.Header.Set(authctx.HeaderForwardedEmail, email)

				resp, err := server.Client().Do(req)
				if err != nil {
					mismatches <- err.Error()
					return
				}
				var body bytes.Buffer
				_, _ = body.ReadFrom(resp.Body)
				resp.Body.Close()

				want := email + " " + token + " https://adb-1.net"
				if body.String() != want {
					mismatches <- fmt.Sprintf("got %q, want %q", body.String(), want)
				}
			}
		}()
	}
	wg.Wait()
	close(mismatches)

	for m := range mismatches {
		t.Error(m)
	}
}

// TestStoredTokenGroupsIsolated resolves tokens for many groups at once
// and checks no caller gets another group's token.
func TestStoredTokenGroupsIsolated(t *testing.T) {
	type groupKey struct{}
	var lookups atomic.Int64
	lookup := func(ctx context.Context, workspace, group string) (authctx.Credential, error) {
		lookups.Add(1)
		time.Sleep(time.Millisecond)
		return authctx.Credential{Token: "tok-" + workspace + "-" + group}, nil
	}
	provider, err := authctx.NewStoredToken(lookup,
		authctx.WithGroupKey(func(ctx context.Context) string { g, _ := ctx.Value(groupKey{}).(string); return g }),
		authctx.WithWorkspaceKey(func(ctx context.Context) string { return "ws" }))
	require.NoError(t, err)

	const groups = 16
	var wg sync.WaitGroup
	errs := make(chan string, groups*20)
	for i := range groups * 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			group := "g" + strconv.Itoa(i%groups)
			ctx := context.WithValue(context.Background(), groupKey{}, group)
			c, err := provider.Credential(ctx)
			if err != nil {
				errs <- err.Error()
				return
			}
			if c.Token != "tok-ws-"+group || c.Method != authctx.MethodPAT {
				errs <- fmt.Sprintf("group %s got token %q method %q", group, c.Token, c.Method)
			}
		}()
	}
	wg.Wait()
	close(errs)

	for e := range errs {
		t.Error(e)
	}
	assert.LessOrEqual(t, lookups.Load(), int64(groups*2), "the cache and the shared lookup should bound the lookups")
}

// TestStoredTokenBlockedLookupCallerLeaves checks that a caller whose
// context ends stops waiting for a lookup that blocks, and that the lookup
// runs without the caller's credential and with slow providers forbidden.
func TestStoredTokenBlockedLookupCallerLeaves(t *testing.T) {
	release := make(chan struct{})
	type seenContext struct {
		credential bool
		slow       bool
		deadline   bool
	}
	seen := make(chan seenContext, 1)
	lookup := func(ctx context.Context, workspace, group string) (authctx.Credential, error) {
		_, hasCredential := authctx.FromContext(ctx)
		_, hasDeadline := ctx.Deadline()
		seen <- seenContext{credential: hasCredential, slow: authctx.SlowProvidersAllowed(ctx), deadline: hasDeadline}
		<-release
		return authctx.Credential{Token: distinctToken}, nil
	}
	provider, err := authctx.NewStoredToken(lookup, authctx.WithLookupTimeout(time.Minute))
	require.NoError(t, err)

	ctx := authctx.NewContext(context.Background(), authctx.Credential{Token: "caller" + distinctToken})
	ctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()

	started := time.Now()
	_, err = provider.Credential(ctx)
	elapsed := time.Since(started)

	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, elapsed, 5*time.Second)
	assert.NotContains(t, err.Error(), distinctToken)

	got := <-seen
	assert.False(t, got.credential, "the shared lookup saw the caller's credential")
	assert.False(t, got.slow, "the shared lookup may call slow providers")
	assert.True(t, got.deadline, "the shared lookup has no lookup timeout")

	close(release)
	c, err := provider.Credential(context.Background())
	require.NoError(t, err)
	assert.Equal(t, distinctToken, c.Token)
}

// TestStoredTokenLookupPanics checks that a panicking lookup becomes an
// error for every waiting caller and the process survives.
func TestStoredTokenLookupPanics(t *testing.T) {
	var calls atomic.Int64
	lookup := func(ctx context.Context, workspace, group string) (authctx.Credential, error) {
		calls.Add(1)
		time.Sleep(10 * time.Millisecond)
		panic("review lookup bug")
	}
	provider, err := authctx.NewStoredToken(lookup, authctx.WithNegativeTTL(0))
	require.NoError(t, err)

	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := provider.Credential(context.Background())
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)

	for err := range errs {
		require.Error(t, err)
		assert.Contains(t, err.Error(), "review lookup bug")
		assert.NotErrorIs(t, err, authctx.ErrNoCredential)
	}
}

// TestStoredTokenExpiredCredential checks the TTL never outlives the
// token's own expiry: a credential that expires in one second is looked up
// again after that second.
func TestStoredTokenExpiredCredential(t *testing.T) {
	clock := newFakeClock()
	var calls atomic.Int64
	lookup := func(ctx context.Context, workspace, group string) (authctx.Credential, error) {
		n := calls.Add(1)
		return authctx.Credential{Token: "tok" + strconv.FormatInt(n, 10), Expiry: clock.Now().Add(time.Second)}, nil
	}
	provider, err := authctx.NewStoredToken(lookup, authctx.WithClock(clock.Now))
	require.NoError(t, err)

	first, err := provider.Credential(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "tok1", first.Token)

	clock.Advance(999 * time.Millisecond)
	again, err := provider.Credential(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "tok1", again.Token)

	clock.Advance(time.Millisecond)
	next, err := provider.Credential(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "tok2", next.Token)
}

// heldTokenServer is a loopback OAuth token endpoint that counts requests
// and can hold them until released.
type heldTokenServer struct {
	*httptest.Server
	requests atomic.Int64
	hold     chan struct{}
	status   atomic.Int64
}

func newHeldTokenServer(t *testing.T, hold bool) *heldTokenServer {
	ts := &heldTokenServer{}
	ts.status.Store(http.StatusOK)
	if hold {
		ts.hold = make(chan struct{})
	}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := ts.requests.Add(1)
		if ts.hold != nil {
			select {
			case <-ts.hold:
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		status := int(ts.status.Load())
		w.WriteHeader(status)
		if status != http.StatusOK {
			// A server that echoes the client's credentials back.
			fmt.Fprintf(w, `{"error":"invalid_client","error_description":%q,"auth":%q}`, distinctSecret, r.Header.Get("Authorization"))
			return
		}
		fmt.Fprintf(w, `{"access_token":"%s-%d","token_type":"Bearer","expires_in":3600}`, distinctToken, n)
	}))
	t.Cleanup(ts.Close)
	return ts
}

// TestOAuthRefreshRace checks that concurrent callers share one token
// request, also when the token reaches its refresh time.
func TestOAuthRefreshRace(t *testing.T) {
	ts := newHeldTokenServer(t, false)
	clock := newFakeClock()
	provider, err := authctx.NewOAuthM2M(ts.URL, "client-1", distinctSecret, authctx.WithClock(clock.Now))
	require.NoError(t, err)

	resolveAll := func() []string {
		var wg sync.WaitGroup
		tokens := make([]string, 32)
		for i := range tokens {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := provider.Credential(context.Background())
				if err == nil {
					tokens[i] = c.Token
				}
			}()
		}
		wg.Wait()
		return tokens
	}

	for _, token := range resolveAll() {
		assert.Equal(t, distinctToken+"-1", token)
	}
	assert.Equal(t, int64(1), ts.requests.Load())

	clock.Advance(3600*time.Second - authctx.DefaultRefreshLeeway)
	for _, token := range resolveAll() {
		assert.Contains(t, []string{distinctToken + "-1", distinctToken + "-2"}, token)
	}
	assert.Equal(t, int64(2), ts.requests.Load())

	c, err := provider.Credential(context.Background())
	require.NoError(t, err)
	assert.Equal(t, distinctToken+"-2", c.Token)
}

// TestOAuthBlockedServerCallerLeaves checks that a caller's context
// bounds its wait for a token endpoint that does not respond.
func TestOAuthBlockedServerCallerLeaves(t *testing.T) {
	ts := newHeldTokenServer(t, true)
	provider, err := authctx.NewOAuthM2M(ts.URL, "client-1", distinctSecret, authctx.WithTokenRequestTimeout(time.Minute))
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	started := time.Now()
	_, err = provider.Credential(ctx)

	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(started), 5*time.Second)
	assert.NotContains(t, err.Error(), distinctSecret)

	close(ts.hold)
	c, err := provider.Credential(context.Background())
	require.NoError(t, err)
	assert.Equal(t, distinctToken+"-1", c.Token)
}

// TestOAuthRejectedHidesSecret checks that a rejected request returns an
// OAuthError without the secret or the echoed Authorization header, in the
// error, the log and the chain's resolution.
func TestOAuthRejectedHidesSecret(t *testing.T) {
	ts := newHeldTokenServer(t, false)
	ts.status.Store(http.StatusUnauthorized)

	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	provider, err := authctx.NewOAuthM2M(ts.URL, "client-1", distinctSecret, authctx.WithLogger(logger))
	require.NoError(t, err)

	chain := authctx.ChainWith([]authctx.Provider{authctx.FromContextProvider{}, provider}, authctx.WithLogger(logger))
	_, resolution, err := chain.Resolve(context.Background())
	require.Error(t, err)

	var oauthErr *authctx.OAuthError
	require.ErrorAs(t, err, &oauthErr)
	assert.Equal(t, http.StatusUnauthorized, oauthErr.StatusCode)
	assert.Equal(t, "invalid_client", oauthErr.Code)

	for _, out := range []string{err.Error(), fmt.Sprintf("%+v", err), resolution.String(), logs.String()} {
		assert.NotContains(t, out, distinctSecret)
		assert.NotContains(t, out, "Basic ")
	}
}

// TestDetachKeepsCredentialDropsCancel checks Detach and Go against
// their documentation: values kept, cancellation and deadline dropped.
func TestDetachKeepsCredentialDropsCancel(t *testing.T) {
	parent, cancel := context.WithTimeout(authctx.NewContext(context.Background(), authctx.Credential{Token: distinctToken}), time.Hour)
	cancel()

	detached := authctx.Detach(parent)
	assert.NoError(t, detached.Err())
	_, hasDeadline := detached.Deadline()
	assert.False(t, hasDeadline)
	c, ok := authctx.FromContext(detached)
	assert.True(t, ok)
	assert.Equal(t, distinctToken, c.Token)

	done := make(chan error, 1)
	authctx.Go(parent, func(ctx context.Context) {
		c, ok := authctx.FromContext(ctx)
		if !ok || c.Token != distinctToken {
			done <- errors.New("the goroutine lost the credential")
			return
		}
		done <- ctx.Err()
	})
	assert.NoError(t, <-done)

	assert.NotPanics(t, func() { authctx.Go(parent, nil) })
}

// TestOAuthFailedRefreshKeepsToken checks the documented behaviour when
// a refresh fails: the still-valid token is returned, the next request waits
// for the negative TTL, and an expired token turns the failure into an error.
func TestOAuthFailedRefreshKeepsToken(t *testing.T) {
	ts := newHeldTokenServer(t, false)
	clock := newFakeClock()
	provider, err := authctx.NewOAuthM2M(ts.URL, "client-1", distinctSecret,
		authctx.WithClock(clock.Now), authctx.WithNegativeTTL(10*time.Second))
	require.NoError(t, err)

	first, err := provider.Credential(context.Background())
	require.NoError(t, err)
	assert.Equal(t, int64(1), ts.requests.Load())

	ts.status.Store(http.StatusServiceUnavailable)
	clock.Advance(3600*time.Second - authctx.DefaultRefreshLeeway)
	afterFailedRefresh, err := provider.Credential(context.Background())
	require.NoError(t, err)
	assert.Equal(t, first.Token, afterFailedRefresh.Token)
	assert.Equal(t, int64(2), ts.requests.Load())

	clock.Advance(9 * time.Second)
	_, err = provider.Credential(context.Background())
	require.NoError(t, err)
	assert.Equal(t, int64(2), ts.requests.Load(), "a refresh was sent before the negative TTL passed")

	clock.Advance(time.Second)
	_, err = provider.Credential(context.Background())
	require.NoError(t, err)
	assert.Equal(t, int64(3), ts.requests.Load())

	clock.Advance(authctx.DefaultRefreshLeeway)
	_, err = provider.Credential(context.Background())
	var oauthErr *authctx.OAuthError
	require.ErrorAs(t, err, &oauthErr)
	assert.Equal(t, http.StatusServiceUnavailable, oauthErr.StatusCode)
	assert.NotContains(t, err.Error(), distinctSecret)
}

// TestMiddlewareInvalidWorkspaceHost checks that an invalid workspace
// host forwards no credential and reports ErrInvalidWorkspaceHost.
func TestMiddlewareRejectsInvalidWorkspaceHost(t *testing.T) {
	var (
		gotCredential bool
		gotReason     error
	)
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, gotCredential = authctx.FromContext(r.Context())
		_, gotReason = authctx.IdentityFromContext(r.Context())
	})
	handler := authctx.Middleware(next, authctx.TrustForwardedHeaders(), authctx.WithWorkspaceHost("https://:443"))

	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set(authctx.HeaderForwardedAccessToken, distinctToken)
	handler.ServeHTTP(httptest.NewRecorder(), req)

	assert.False(t, gotCredential)
	assert.ErrorIs(t, gotReason, authctx.ErrInvalidWorkspaceHost)
}
