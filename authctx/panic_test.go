package authctx_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/httpmeter/httpmeter/authctx"
)

// panickingTransport is an http.RoundTripper with a bug.
type panickingTransport struct{}

func (panickingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	panic("transport bug")
}

func TestStoredTokenLookupPanic(t *testing.T) {
	calls := 0
	p, err := authctx.NewStoredToken(func(context.Context, string, string) (authctx.Credential, error) {
		calls++
		var tokens map[string]string
		//lint:ignore SA5000 the panic of a write to a nil map is the input under test
		tokens["ws"] = "pat"
		return authctx.Credential{}, nil
	})
	require.NoError(t, err)

	_, err = p.Credential(t.Context())
	require.Error(t, err)
	assert.ErrorContains(t, err, "stored token lookup panicked")
	assert.ErrorContains(t, err, "assignment to entry in nil map")
	assert.NotErrorIs(t, err, authctx.ErrNoCredential, "a panic stops a chain")

	_, err = p.Credential(t.Context())
	require.Error(t, err)
	assert.Equal(t, 1, calls, "the failure is cached for the negative TTL")
}

func TestOAuthM2MTransportPanic(t *testing.T) {
	p, err := authctx.NewOAuthM2M("https://adb-123.azuredatabricks.net", oauthClientID, oauthClientSecret,
		authctx.WithHTTPClient(&http.Client{Transport: panickingTransport{}}))
	require.NoError(t, err)

	_, err = p.Credential(t.Context())
	require.Error(t, err)
	assert.ErrorContains(t, err, "oauth-m2m token request panicked: transport bug")
	assert.NotContains(t, err.Error(), oauthClientSecret)
}

func TestZeroProvidersReturnErrors(t *testing.T) {
	var stored authctx.StoredToken
	_, err := stored.Credential(t.Context())
	assert.ErrorContains(t, err, "NewStoredToken")

	var oauth authctx.OAuthM2M
	_, err = oauth.Credential(t.Context())
	assert.ErrorContains(t, err, "NewOAuthM2M")
}

// secretPanickingTransport panics with a message that contains the client
// secret, as a transport that dumps the request might.
type secretPanickingTransport struct{}

func (secretPanickingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	panic("cannot send with secret " + oauthClientSecret)
}

func TestOAuthM2MPanicRedactsSecret(t *testing.T) {
	p, err := authctx.NewOAuthM2M("https://adb-123.azuredatabricks.net", oauthClientID, oauthClientSecret,
		authctx.WithHTTPClient(&http.Client{Transport: secretPanickingTransport{}}))
	require.NoError(t, err)

	_, err = p.Credential(t.Context())
	require.Error(t, err)
	assert.NotContains(t, err.Error(), oauthClientSecret)
	assert.ErrorContains(t, err, "cannot send with secret REDACTED")
}
