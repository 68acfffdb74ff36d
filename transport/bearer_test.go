package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	stdlog "log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/httpmeter/httpmeter/authctx"
)

// sentRequest is what an in-memory base received from a BearerTransport.
type sentRequest struct {
	authorization string
	credential    authctx.Credential
	hasCredential bool
}

// sendThroughBearer sends a GET of url with ctx through a BearerTransport
// built from opts over an in-memory base, and returns what the base
// received, or the error of RoundTrip.
func sendThroughBearer(t *testing.T, ctx context.Context, url string, header http.Header, opts ...BearerOption) (sentRequest, error) {
	t.Helper()
	var sent sentRequest
	base := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		sent.authorization = req.Header.Get("Authorization")
		sent.credential, sent.hasCredential = authctx.FromContext(req.Context())
		return &http.Response{StatusCode: http.StatusNoContent, Header: http.Header{}, Body: http.NoBody, Request: req}, nil
	})
	rt, err := Bearer(base, opts...)
	require.NoError(t, err)

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	for k, v := range header {
		req.Header[k] = v
	}

	resp, err := rt.RoundTrip(req)
	if err != nil {
		require.Nil(t, resp)
		return sentRequest{}, err
	}
	require.NoError(t, resp.Body.Close())
	return sent, nil
}

func TestBearerRejectsMissingOrigins(t *testing.T) {
	rt, err := Bearer(nil)
	require.ErrorContains(t, err, "transport: Bearer has no allowed origin")
	assert.Nil(t, rt)

	rt, err = Bearer(nil, AllowOrigins())
	require.Error(t, err)
	assert.Nil(t, rt)
}

func TestBearerRejectsInvalidOrigins(t *testing.T) {
	tests := []struct {
		origin string
		want   string
	}{
		{origin: "ftp://a.example", want: `scheme "ftp" is not http or https`},
		{origin: "a.example", want: "has no host"},
		{origin: "https://", want: "has no host"},
		{origin: "https://a.example/api", want: "has a path, query or fragment"},
		{origin: "https://a.example?x=1", want: "has a path, query or fragment"},
		{origin: "https://a.example#f", want: "has a path, query or fragment"},
		{origin: "https://a.example:0", want: `port "0" is not a number from 1 to 65535`},
		{origin: "https://a.example:99999", want: `port "99999" is not a number from 1 to 65535`},
		{origin: "https://a.example:x", want: "is not a valid URL"},
		{origin: "https://:443", want: "is empty"},
		{origin: "https://*.azuredatabricks.net", want: "contains a wildcard, which is not supported"},
		{origin: "https://a$b.example", want: "has an invalid host name"},
		{origin: "https://a!b.example", want: "has an invalid host name"},
	}
	for _, tt := range tests {
		t.Run(tt.origin, func(t *testing.T) {
			rt, err := Bearer(nil, AllowOrigins("https://ok.example", tt.origin))
			require.Error(t, err)
			assert.Nil(t, rt)
			assert.Contains(t, err.Error(), "transport: allowed origin "+fmt.Sprintf("%q", tt.origin))
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestBearerOriginErrorsHidePasswords(t *testing.T) {
	tests := []struct {
		origin string
		shown  string
	}{
		{origin: "https://user:s3cret@a.example", shown: `"https://xxxxx@a.example" contains user information`},
		{origin: "https://user:s3cret@a.example/api", shown: `"https://xxxxx@a.example/api" contains user information`},
		{origin: "https://user:s3cret@a.example:x", shown: `"https://xxxxx@a.example:x" is not a valid URL`},
		{origin: "user:s3cret@a.example", shown: `"xxxxx@a.example" has no host`},
	}
	for _, tt := range tests {
		t.Run(tt.shown, func(t *testing.T) {
			_, err := Bearer(nil, AllowOrigins(tt.origin))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.shown)
			assert.NotContains(t, err.Error(), "s3cret")
		})
	}
}

func TestBearerMatchesOrigins(t *testing.T) {
	ada := testCredential("ada", "https://a.example")
	ctx := authctx.NewContext(context.Background(), ada)

	tests := []struct {
		allowed string
		url     string
		send    bool
	}{
		{allowed: "https://a.example", url: "https://a.example/api/2.0/x", send: true},
		{allowed: "https://A.Example", url: "https://a.example:443/x", send: true},
		{allowed: "https://a.example:443", url: "https://A.EXAMPLE/x", send: true},
		{allowed: "https://a.example/", url: "https://a.example/x", send: true},
		{allowed: "https://a.example.", url: "https://a.example/x", send: true},
		{allowed: "http://a.example", url: "http://a.example:80/x", send: true},
		{allowed: "https://a.example:8443", url: "https://a.example:8443/x", send: true},
		{allowed: "https://[::1]:8443", url: "https://[::1]:8443/x", send: true},
		{allowed: "https://[::1]", url: "https://[::1]:443/x", send: true},
		{allowed: "https://a.example", url: "http://a.example/x", send: false},
		{allowed: "http://a.example", url: "https://a.example/x", send: false},
		{allowed: "https://a.example", url: "https://a.example:8443/x", send: false},
		{allowed: "https://a.example:8443", url: "https://a.example/x", send: false},
		{allowed: "https://a.example", url: "https://b.a.example/x", send: false},
		{allowed: "https://a.example", url: "https://a.example.evil.example/x", send: false},
		{allowed: "https://a.example", url: "wss://a.example/x", send: false},
	}
	for _, tt := range tests {
		t.Run(tt.allowed+" "+tt.url, func(t *testing.T) {
			sent, err := sendThroughBearer(t, ctx, tt.url, nil, AllowOrigins(tt.allowed))
			require.NoError(t, err)
			if tt.send {
				assert.Equal(t, "Bearer tok-ada", sent.authorization)
			} else {
				assert.Empty(t, sent.authorization)
			}
		})
	}
}

func TestBearerRequiresHostHeaderAllowed(t *testing.T) {
	ctx := authctx.NewContext(context.Background(), testCredential("ada", ""))
	base := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"X-Auth": {req.Header.Get("Authorization")}}, Body: http.NoBody, Request: req}, nil
	})
	rt, err := Bearer(base, AllowOrigins("https://a.example", "https://b.example"))
	require.NoError(t, err)

	for host, want := range map[string]string{"c.example": "", "B.example": "Bearer tok-ada", "a.example:443": "Bearer tok-ada"} {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://a.example/x", nil)
		require.NoError(t, err)
		req.Host = host

		resp, err := rt.RoundTrip(req)
		require.NoError(t, err)
		assert.Equal(t, want, resp.Header.Get("X-Auth"), "Host %s", host)
	}
}

// staticProvider is an authctx.Provider that returns fixed values and
// counts its calls.
type staticProvider struct {
	mu    sync.Mutex
	cred  authctx.Credential
	err   error
	calls int
}

func (p *staticProvider) Name() string { return "static-test" }

func (p *staticProvider) Credential(context.Context) (authctx.Credential, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	return p.cred, p.err
}

func TestBearerCredentialSources(t *testing.T) {
	ada := testCredential("ada", "https://a.example")
	service := authctx.Credential{Token: "tok-service", Method: authctx.MethodOAuthM2M, Subject: "svc", Host: "https://a.example"}

	t.Run("context wins over provider", func(t *testing.T) {
		provider := &staticProvider{cred: service}
		sent, err := sendThroughBearer(t, authctx.NewContext(context.Background(), ada), "https://a.example/x", nil,
			AllowOrigins("https://a.example"), WithProvider(provider))
		require.NoError(t, err)
		assert.Equal(t, "Bearer tok-ada", sent.authorization)
		assert.Equal(t, ada, sent.credential)
		assert.Equal(t, 0, provider.calls)
	})

	t.Run("provider passed down", func(t *testing.T) {
		provider := &staticProvider{cred: service}
		sent, err := sendThroughBearer(t, context.Background(), "https://a.example/x", nil,
			AllowOrigins("https://a.example"), WithProvider(provider))
		require.NoError(t, err)
		assert.Equal(t, "Bearer tok-service", sent.authorization)
		assert.True(t, sent.hasCredential)
		assert.Equal(t, service, sent.credential)
		assert.Equal(t, 1, provider.calls)
	})

	t.Run("no credential fails closed", func(t *testing.T) {
		_, err := sendThroughBearer(t, context.Background(), "https://a.example/x", nil, AllowOrigins("https://a.example"))
		require.ErrorIs(t, err, authctx.ErrNoCredential)
		assert.ErrorContains(t, err, "transport: no credential for a request to https://a.example:443")
		assert.ErrorContains(t, err, "authctx.NewContext")
	})

	t.Run("provider error fails closed", func(t *testing.T) {
		providerErr := fmt.Errorf("token store timed out: %w", context.DeadlineExceeded)
		_, err := sendThroughBearer(t, context.Background(), "https://a.example/x", nil,
			AllowOrigins("https://a.example"), WithProvider(&staticProvider{err: providerErr}))
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.ErrorContains(t, err, `provider "static-test" failed`)
	})

	t.Run("provider without token fails closed", func(t *testing.T) {
		_, err := sendThroughBearer(t, context.Background(), "https://a.example/x", nil,
			AllowOrigins("https://a.example"), WithProvider(&staticProvider{cred: authctx.Credential{Subject: "svc"}}))
		require.ErrorIs(t, err, authctx.ErrNoCredential)
		assert.ErrorContains(t, err, "returned a credential without a token")
	})

	t.Run("invalid token fails closed", func(t *testing.T) {
		bad := authctx.Credential{Token: "secret-part\r\nX-Injected: 1", Subject: "mallory"}
		_, err := sendThroughBearer(t, authctx.NewContext(context.Background(), bad), "https://a.example/x", nil, AllowOrigins("https://a.example"))
		require.ErrorContains(t, err, `subject "mallory" has a token whose byte 11 is not visible ASCII`)
		assert.NotContains(t, err.Error(), "secret-part")
	})

	t.Run("other origin needs no credential", func(t *testing.T) {
		provider := &staticProvider{cred: service}
		sent, err := sendThroughBearer(t, context.Background(), "https://llm.example/v1/chat/completions", nil,
			AllowOrigins("https://a.example"), WithProvider(provider))
		require.NoError(t, err)
		assert.Empty(t, sent.authorization)
		assert.False(t, sent.hasCredential)
		assert.Equal(t, 0, provider.calls)
	})

	t.Run("other origin drops the credential", func(t *testing.T) {
		// The credential did not authenticate the request, so a Usage layer
		// below must not record it.
		sent, err := sendThroughBearer(t, authctx.NewContext(context.Background(), ada), "https://llm.example/v1/chat/completions", nil,
			AllowOrigins("https://a.example"))
		require.NoError(t, err)
		assert.Empty(t, sent.authorization)
		assert.False(t, sent.hasCredential)
	})
}

func TestBearerCallerAuthorization(t *testing.T) {
	ada := testCredential("ada", "https://a.example")
	ctx := authctx.NewContext(context.Background(), ada)
	callerHeader := http.Header{"Authorization": {"Bearer caller-token"}}

	sent, err := sendThroughBearer(t, ctx, "https://a.example/x", callerHeader, AllowOrigins("https://a.example"))
	require.NoError(t, err)
	assert.Equal(t, "Bearer caller-token", sent.authorization)
	assert.False(t, sent.hasCredential, "the context credential did not authenticate the request")

	sent, err = sendThroughBearer(t, context.Background(), "https://a.example/x", callerHeader, AllowOrigins("https://a.example"))
	require.NoError(t, err)
	assert.Equal(t, "Bearer caller-token", sent.authorization)
	assert.False(t, sent.hasCredential)

	sent, err = sendThroughBearer(t, ctx, "https://a.example/x", callerHeader, AllowOrigins("https://a.example"), ReplaceAuthorization())
	require.NoError(t, err)
	assert.Equal(t, "Bearer tok-ada", sent.authorization)
	assert.Equal(t, ada, sent.credential)
}

func TestBearerSkipsTokenEndpoints(t *testing.T) {
	provider := &staticProvider{cred: testCredential("svc", "")}
	for _, path := range []string{"/oidc/v1/token", "/oidc/accounts/123/v1/token", "/oidc"} {
		sent, err := sendThroughBearer(t, context.Background(), "https://a.example"+path, nil,
			AllowOrigins("https://a.example"), WithProvider(provider))
		require.NoError(t, err, path)
		assert.Empty(t, sent.authorization, path)
	}
	assert.Equal(t, 0, provider.calls)

	sent, err := sendThroughBearer(t, context.Background(), "https://a.example/oidcx/v1/token", nil,
		AllowOrigins("https://a.example"), WithProvider(provider))
	require.NoError(t, err)
	assert.Equal(t, "Bearer tok-svc", sent.authorization)
}

// hop is one request of a redirect chain as the network transport received
// it from the BearerTransport, or as a server handler saw it.
type hop struct {
	url           string
	method        string
	authorization string
	body          string
}

// hopLog records hops from several goroutines.
type hopLog struct {
	mu   sync.Mutex
	hops []hop
}

func (l *hopLog) add(h hop) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.hops = append(l.hops, h)
}

func (l *hopLog) reset() []hop {
	l.mu.Lock()
	defer l.mu.Unlock()
	hops := l.hops
	l.hops = nil
	return hops
}

// redirectHandler redirects /start to the URL in the query parameter "to"
// with the status in "code", and records every other request it serves.
func redirectHandler(served *hopLog) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/start" {
			_, _ = io.Copy(io.Discard, r.Body)
			code := 0
			_, _ = fmt.Sscan(r.URL.Query().Get("code"), &code)
			http.Redirect(w, r, r.URL.Query().Get("to"), code)
			return
		}
		body, _ := io.ReadAll(r.Body)
		served.add(hop{url: r.URL.Path, method: r.Method, authorization: r.Header.Get("Authorization"), body: string(body)})
		w.WriteHeader(http.StatusNoContent)
	})
}

func TestBearerRedirectMatrix(t *testing.T) {
	var served, sent hopLog
	plain := newServer(t, redirectHandler(&served))
	otherPort := newServer(t, redirectHandler(&served))
	secure := httptest.NewUnstartedServer(redirectHandler(&served))
	// The https-to-http row makes the TLS server log a handshake error,
	// which is expected here.
	secure.Config.ErrorLog = stdlog.New(io.Discard, "", 0)
	secure.StartTLS()
	t.Cleanup(secure.Close)

	// The network transport trusts the TLS test server's certificate.
	network := secure.Client().Transport.(*http.Transport).Clone()
	t.Cleanup(network.CloseIdleConnections)
	recordSent := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		sent.add(hop{url: req.URL.String(), method: req.Method, authorization: req.Header.Get("Authorization")})
		return network.RoundTrip(req)
	})

	rt, err := Bearer(recordSent, AllowOrigins(plain.URL, secure.URL))
	require.NoError(t, err)
	client := &http.Client{Transport: rt}

	targets := []struct {
		name      string
		start     string
		to        string
		sendToken bool
		reachable bool // whether the target's handler runs
	}{
		{name: "same origin", start: plain.URL, to: plain.URL + "/landing", sendToken: true, reachable: true},
		{name: "same origin https", start: secure.URL, to: secure.URL + "/landing", sendToken: true, reachable: true},
		{name: "other host", start: plain.URL, to: strings.Replace(plain.URL, "127.0.0.1", "localhost", 1) + "/landing", reachable: true},
		{name: "other port", start: plain.URL, to: otherPort.URL + "/landing", reachable: true},
		// The TLS server responds to a plain HTTP request with 400 before any
		// handler runs, so only the sent side is checked.
		{name: "https to http", start: secure.URL, to: strings.Replace(secure.URL, "https://", "http://", 1) + "/landing"},
	}
	codes := []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect}

	for _, code := range codes {
		for _, target := range targets {
			t.Run(fmt.Sprintf("%d %s", code, target.name), func(t *testing.T) {
				served.reset()
				sent.reset()

				ctx := authctx.NewContext(context.Background(), testCredential("ada", ""))
				startURL := fmt.Sprintf("%s/start?code=%d&to=%s", target.start, code, target.to)
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, startURL, strings.NewReader(`{"q":"replayed"}`))
				require.NoError(t, err)

				resp, err := client.Do(req)
				require.NoError(t, err)
				_, _ = io.Copy(io.Discard, resp.Body)
				require.NoError(t, resp.Body.Close())

				hops := sent.reset()
				require.Len(t, hops, 2)
				assert.Equal(t, "Bearer tok-ada", hops[0].authorization, "first hop")
				assert.Equal(t, target.to, hops[1].url)
				wantAuth := ""
				if target.sendToken {
					wantAuth = "Bearer tok-ada"
				}
				assert.Equal(t, wantAuth, hops[1].authorization, "redirected hop")

				// 307 and 308 replay the method and body, the others
				// turn a POST into a GET without a body.
				wantMethod, wantBody := http.MethodGet, ""
				if code == http.StatusTemporaryRedirect || code == http.StatusPermanentRedirect {
					wantMethod, wantBody = http.MethodPost, `{"q":"replayed"}`
				}
				assert.Equal(t, wantMethod, hops[1].method)

				if !target.reachable {
					assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
					return
				}
				landed := served.reset()
				require.Len(t, landed, 1)
				assert.Equal(t, wantAuth, landed[0].authorization, "Authorization at the target")
				assert.Equal(t, wantMethod, landed[0].method)
				assert.Equal(t, wantBody, landed[0].body)
			})
		}
	}
}

func TestBearerErrorNamesNoToken(t *testing.T) {
	// A provider error is wrapped as it is, so the provider contract (no
	// token in errors) carries through; Bearer adds no token of its own.
	provider := &staticProvider{err: errors.New("refresh failed")}
	ctx := context.Background()
	_, err := sendThroughBearer(t, ctx, "https://a.example/x", nil, AllowOrigins("https://a.example"), WithProvider(provider))
	require.Error(t, err)
	assert.Equal(t, `transport: no credential for a request to https://a.example:443: provider "static-test" failed: refresh failed`, err.Error())
}

func TestBearerRejectsExpiredCredential(t *testing.T) {
	expired := authctx.Credential{Token: "expired-secret", Subject: "dana@example.com", Expiry: time.Now().Add(-time.Minute)}
	cases := map[string][]BearerOption{
		"from context":  nil,
		"from provider": {WithProvider(&staticProvider{cred: expired})},
	}
	for name, opts := range cases {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			if opts == nil {
				ctx = authctx.NewContext(ctx, expired)
			}
			_, err := sendThroughBearer(t, ctx, "https://a.example/x", nil, append(opts, AllowOrigins("https://a.example"))...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), `"dana@example.com" expired`)
			assert.NotContains(t, err.Error(), "expired-secret")
		})
	}

	valid := expired
	valid.Expiry = time.Now().Add(time.Hour)
	sent, err := sendThroughBearer(t, authctx.NewContext(context.Background(), valid), "https://a.example/x", nil, AllowOrigins("https://a.example"))
	require.NoError(t, err)
	assert.Equal(t, "Bearer expired-secret", sent.authorization)
}

func TestBearerMatchCredentialHost(t *testing.T) {
	origins := AllowOrigins("https://a.example", "https://b.example:8443")
	tests := []struct {
		name    string
		host    string
		url     string
		wantErr string
	}{
		{name: "own workspace", host: "https://a.example", url: "https://a.example/api"},
		{name: "own workspace without scheme", host: "a.example", url: "https://a.example/api"},
		{name: "own workspace with port", host: "https://b.example:8443/", url: "https://b.example:8443/api"},
		{name: "empty host goes anywhere allowed", host: "", url: "https://b.example:8443/api"},
		{name: "other workspace", host: "https://a.example", url: "https://b.example:8443/api",
			wantErr: `transport: the credential for subject "eve@example.com" belongs to https://a.example:443 and is not sent to https://b.example:8443`},
		{name: "other port", host: "https://b.example", url: "https://b.example:8443/api",
			wantErr: "belongs to https://b.example:443 and is not sent to https://b.example:8443"},
		{name: "not http", host: "ftp://a.example", url: "https://a.example/api",
			wantErr: `has Host "ftp://a.example", which is not an http or https origin`},
		{name: "invalid host", host: "https://a.example:x", url: "https://a.example/api",
			wantErr: "has a Host that is not a valid URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cred := authctx.Credential{Token: "eve-secret", Subject: "eve@example.com", Host: tt.host}
			sent, err := sendThroughBearer(t, authctx.NewContext(context.Background(), cred), tt.url, nil, origins, MatchCredentialHost())
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.NotContains(t, err.Error(), "eve-secret")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "Bearer eve-secret", sent.authorization)
		})
	}

	// Without the option, a credential goes to every allowed origin.
	cred := authctx.Credential{Token: "eve-secret", Subject: "eve@example.com", Host: "https://a.example"}
	sent, err := sendThroughBearer(t, authctx.NewContext(context.Background(), cred), "https://b.example:8443/api", nil, origins)
	require.NoError(t, err)
	assert.Equal(t, "Bearer eve-secret", sent.authorization)
}
