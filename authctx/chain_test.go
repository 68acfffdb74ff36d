package authctx_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/httpmeter/httpmeter/authctx"
)

// countingProvider returns a fixed credential and error, and counts calls.
type countingProvider struct {
	name       string
	credential authctx.Credential
	err        error
	slow       bool
	calls      atomic.Int64
}

func (p *countingProvider) Name() string { return p.name }
func (p *countingProvider) Slow() bool   { return p.slow }

func (p *countingProvider) Credential(context.Context) (authctx.Credential, error) {
	p.calls.Add(1)
	return p.credential, p.err
}

func TestChainUsualOrder(t *testing.T) {
	store := &tokenStore{}
	stored := newStoredToken(t, store)
	env := authctx.Env(authctx.WithLookupEnv(mapEnv(map[string]string{
		"DATABRICKS_HOST": "https://adb-1.azuredatabricks.net", "DATABRICKS_TOKEN": "env-token",
	})))
	chain := authctx.Chain(authctx.FromContextProvider{}, stored, env)

	userCtx := authctx.NewContext(t.Context(), testCredential())
	got, resolution, err := chain.Resolve(userCtx)
	require.NoError(t, err)
	assert.Equal(t, credentialToken, got.Token)
	assert.Equal(t, authctx.Resolution{Provider: "context"}, resolution)
	assert.Equal(t, int64(0), store.calls.Load(), "later providers are not asked")

	got, resolution, err = chain.Resolve(withKeys(t.Context(), "ws1", "g"))
	require.NoError(t, err)
	assert.Equal(t, "pat-ws1-g-1", got.Token)
	assert.Equal(t, "stored-token", resolution.Provider)
	assert.Equal(t, []authctx.Skip{{Provider: "context", Reason: "no credential in context"}}, resolution.Skipped)
	assert.Equal(t, "stored-token (skipped: context: no credential in context)", resolution.String())
}

func TestChainWithoutSlowProviders(t *testing.T) {
	store := &tokenStore{}
	ts := newTokenServer(t)
	env := authctx.Env(authctx.WithLookupEnv(mapEnv(map[string]string{
		"DATABRICKS_HOST": "https://adb-1.azuredatabricks.net", "DATABRICKS_TOKEN": "env-token",
	})))
	chain := authctx.Chain(authctx.FromContextProvider{}, newStoredToken(t, store), newOAuth(t, ts), env)
	assert.True(t, chain.Slow())

	got, resolution, err := chain.Resolve(authctx.WithoutSlowProviders(t.Context()))
	require.NoError(t, err)

	assert.Equal(t, "env-token", got.Token)
	assert.Equal(t, authctx.Resolution{Provider: "env", Skipped: []authctx.Skip{
		{Provider: "context", Reason: "no credential in context"},
		{Provider: "stored-token", Reason: authctx.ReasonSlowForbidden},
		{Provider: "oauth-m2m", Reason: authctx.ReasonSlowForbidden},
	}}, resolution)
	assert.Equal(t, int64(0), store.calls.Load())
	assert.Equal(t, int64(0), ts.calls.Load())
}

func TestChainStopsOnError(t *testing.T) {
	failing := &countingProvider{name: "broken", err: errors.New("authctx: token store unreachable")}
	after := &countingProvider{name: "after", credential: authctx.Credential{Token: "after-token"}}
	chain := authctx.Chain(authctx.FromContextProvider{}, failing, after)

	_, resolution, err := chain.Resolve(t.Context())

	require.Error(t, err)
	assert.False(t, errorIsNoCredential(err))
	assert.EqualError(t, err, `authctx: provider "broken" failed: authctx: token store unreachable`)
	assert.Empty(t, resolution.Provider)
	assert.Len(t, resolution.Skipped, 1)
	assert.Equal(t, int64(0), after.calls.Load())
}

func TestChainSkipsEmptyAndExpired(t *testing.T) {
	clock := newFakeClock()
	empty := &countingProvider{name: "empty"}
	expired := &countingProvider{name: "expired", credential: authctx.Credential{Token: "old-token", Expiry: clock.Now()}}
	good := &countingProvider{name: "good", credential: authctx.Credential{Token: "good-token", Expiry: clock.Now().Add(time.Minute)}}
	chain := authctx.ChainWith([]authctx.Provider{empty, nil, expired, good}, authctx.WithClock(clock.Now))

	got, resolution, err := chain.Resolve(t.Context())

	require.NoError(t, err)
	assert.Equal(t, "good-token", got.Token)
	assert.Equal(t, []authctx.Skip{
		{Provider: "empty", Reason: authctx.ReasonEmptyCredential},
		{Provider: "expired", Reason: authctx.ReasonExpiredCredential},
	}, resolution.Skipped)
}

func TestChainNoCredential(t *testing.T) {
	chain := authctx.Chain(authctx.FromContextProvider{}, authctx.Env(authctx.WithLookupEnv(mapEnv(nil))))

	_, resolution, err := chain.Resolve(t.Context())

	require.ErrorIs(t, err, authctx.ErrNoCredential)
	assert.EqualError(t, err, "authctx: no credential from any provider (context: no credential in context; env: no credential: DATABRICKS_TOKEN is not set)")
	assert.Empty(t, resolution.Provider)
	assert.Equal(t, "no provider (skipped: context: no credential in context; env: no credential: DATABRICKS_TOKEN is not set)", resolution.String())

	_, err = chain.Credential(t.Context())
	require.ErrorIs(t, err, authctx.ErrNoCredential)
}

func TestChainEmpty(t *testing.T) {
	_, err := authctx.Chain().Credential(t.Context())

	require.ErrorIs(t, err, authctx.ErrNoCredential)
	assert.EqualError(t, err, "authctx: no credential: the chain has no providers")
}

func TestChainNested(t *testing.T) {
	inner := authctx.Chain(&countingProvider{name: "slow", slow: true, credential: authctx.Credential{Token: "slow-token"}})
	outer := authctx.Chain(inner, authctx.Static(authctx.Credential{Token: "static-token"}))

	got, resolution, err := outer.Resolve(authctx.WithoutSlowProviders(t.Context()))

	require.NoError(t, err)
	assert.Equal(t, "static-token", got.Token)
	assert.Equal(t, []authctx.Skip{{Provider: "chain", Reason: authctx.ReasonSlowForbidden}}, resolution.Skipped)
}

func TestChainProviderErrorWrapsSentinel(t *testing.T) {
	wrapped := &countingProvider{name: "wrapped", err: fmt.Errorf("lookup: %w", authctx.ErrNoCredential)}
	chain := authctx.Chain(wrapped, authctx.Static(authctx.Credential{Token: "static-token"}))

	_, resolution, err := chain.Resolve(t.Context())

	require.NoError(t, err)
	assert.Equal(t, []authctx.Skip{{Provider: "wrapped", Reason: "lookup: authctx: no credential"}}, resolution.Skipped)
}

func TestChainNestedMixedSpeeds(t *testing.T) {
	slow := &countingProvider{name: "slow", slow: true, credential: authctx.Credential{Token: "slow-token"}}
	inner := authctx.Chain(slow, authctx.Static(authctx.Credential{Token: "static-token"}))
	outer := authctx.Chain(inner)

	got, resolution, err := outer.Resolve(authctx.WithoutSlowProviders(t.Context()))

	require.NoError(t, err, "the inner chain's fast provider still answers")
	assert.Equal(t, "static-token", got.Token)
	assert.Equal(t, "chain", resolution.Provider)
	assert.Zero(t, slow.calls.Load(), "the inner chain skips its slow provider itself")
	assert.True(t, inner.Slow(), "a chain with a slow provider is slow")
}
