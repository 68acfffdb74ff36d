package authctx_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/httpmeter/httpmeter/authctx"
)

// TestNoSecretInErrorsOrLogs drives every provider, the chain and the
// middleware through their success and failure paths with a debug logger,
// then scans every error message and log line for every token and secret.
func TestNoSecretInErrorsOrLogs(t *testing.T) {
	const (
		envToken     = "dapi-env-secret-token-aaaa"
		storedToken  = "dapi-stored-secret-token-bbbb"
		staticToken  = "dapi-static-secret-token-cccc"
		clientSecret = "dose-client-secret-dddd"
		userToken    = "eyJ.user-forwarded-secret.eeee"
	)
	secrets := []string{envToken, storedToken, staticToken, clientSecret, userToken, credentialToken,
		"m2m-issued-secret-1", "m2m-issued-secret-2", "m2m-issued-secret-3"}

	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	textLogger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var errs []error
	collect := func(_ authctx.Credential, err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	ctx := t.Context()

	// Environment: valid, invalid host.
	env := authctx.Env(authctx.WithLookupEnv(mapEnv(map[string]string{"DATABRICKS_HOST": "https://h", "DATABRICKS_TOKEN": envToken})))
	collect(env.Credential(ctx))
	badEnv := authctx.Env(authctx.WithLookupEnv(mapEnv(map[string]string{"DATABRICKS_HOST": "https://:1", "DATABRICKS_TOKEN": envToken})))
	collect(badEnv.Credential(ctx))

	// Stored token: found, not found, failed, timed out, empty.
	lookups := []authctx.TokenLookup{
		func(context.Context, string, string) (authctx.Credential, error) {
			return authctx.Credential{Token: storedToken}, nil
		},
		func(context.Context, string, string) (authctx.Credential, error) {
			return authctx.Credential{}, fmt.Errorf("%w: no row", authctx.ErrNoCredential)
		},
		func(context.Context, string, string) (authctx.Credential, error) {
			return authctx.Credential{}, errors.New("database unreachable")
		},
		func(ctx context.Context, _, _ string) (authctx.Credential, error) {
			<-ctx.Done()
			return authctx.Credential{}, ctx.Err()
		},
		func(context.Context, string, string) (authctx.Credential, error) {
			return authctx.Credential{}, nil
		},
	}
	for _, lookup := range lookups {
		p, err := authctx.NewStoredToken(lookup, authctx.WithLogger(logger), authctx.WithLookupTimeout(10*time.Millisecond))
		require.NoError(t, err)
		collect(p.Credential(ctx))
		collect(authctx.ChainWith([]authctx.Provider{p}, authctx.WithLogger(logger)).Credential(ctx))
	}

	// OAuth: issued tokens, then every kind of rejected or malformed response.
	responses := []struct {
		status int
		body   string
	}{
		{200, `{"access_token":"m2m-issued-secret-1","token_type":"Bearer","expires_in":1}`},
		{401, `{"error":"invalid_client","error_description":"bad secret ` + clientSecret + `"}`},
		{200, `not json m2m-issued-secret-2 ` + clientSecret},
		{200, `{"access_token":"m2m-issued-secret-3","token_type":"mac"}`},
		{200, `{"access_token":"m2m-issued-secret-3","expires_in":"` + clientSecret + `"}`},
		{400, `{"error":"` + clientSecret + `"}`},
	}
	for _, response := range responses {
		ts := newTokenServer(t)
		ts.reply(response.status, response.body)
		p, err := authctx.NewOAuthM2M(ts.URL, oauthClientID, clientSecret, authctx.WithLogger(logger), authctx.WithRefreshLeeway(0))
		require.NoError(t, err)
		collect(p.Credential(ctx))
		collect(authctx.ChainWith([]authctx.Provider{p}, authctx.WithLogger(textLogger)).Credential(ctx))
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	unreachable, err := authctx.NewOAuthM2M(closed.URL, oauthClientID, clientSecret, authctx.WithLogger(logger))
	require.NoError(t, err)
	collect(unreachable.Credential(ctx))
	_, err = authctx.NewOAuthM2M("https://h", oauthClientID, clientSecret, authctx.WithTokenURL("https://user:"+clientSecret+"@h/t"))
	require.Error(t, err)
	// The constructor quotes the rejected URL so the caller can fix it; a
	// secret put into the URL itself is the caller's to keep out.
	_, err = authctx.NewOAuthM2M("", oauthClientID, clientSecret)
	collect(authctx.Credential{}, err)
	_, err = authctx.NewOAuthM2M("https://h", oauthClientID, "")
	collect(authctx.Credential{}, err)

	// Chain: a resolved user credential, a static one, and nothing at all.
	chain := authctx.ChainWith([]authctx.Provider{authctx.FromContextProvider{}, authctx.Static(authctx.Credential{Token: staticToken})}, authctx.WithLogger(logger))
	collect(chain.Credential(authctx.NewContext(ctx, testCredential())))
	credential, resolution, err := chain.Resolve(ctx)
	collect(credential, err)
	logger.Info("resolved", "resolution", resolution, "credential", credential)
	textLogger.Info("resolved", "resolution", resolution, "credential", credential)
	collect(authctx.ChainWith([]authctx.Provider{authctx.FromContextProvider{}}, authctx.WithLogger(logger)).Credential(ctx))

	// Middleware: trusted, untrusted, malformed header, invalid host.
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := authctx.IdentityFromContext(r.Context())
		collect(authctx.Credential{}, err)
		textLogger.Info("request", "headers", r.Header, "credential", r.Context().Value(struct{}{}))
	})
	for _, opts := range [][]authctx.Option{
		{authctx.TrustForwardedHeaders(), authctx.WithLogger(logger)},
		{authctx.WithLogger(logger)},
		{authctx.TrustForwardedHeaders(), authctx.WithWorkspaceHost("https://:1"), authctx.WithLogger(logger)},
	} {
		for _, token := range []string{userToken, userToken + " " + userToken} {
			req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/", nil)
			req.Header.Set(authctx.HeaderForwardedAccessToken, token)
			authctx.Middleware(handler, opts...).ServeHTTP(httptest.NewRecorder(), req)
		}
	}

	require.NotEmpty(t, errs)
	require.NotEmpty(t, logs.String())
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	t.Logf("scanned %d error messages and %d log lines", len(errs), len(lines))

	for _, secret := range secrets {
		for _, err := range errs {
			assert.NotContains(t, err.Error(), secret, "error message")
		}
		for _, line := range lines {
			assert.NotContains(t, line, secret, "log line")
		}
	}
}
