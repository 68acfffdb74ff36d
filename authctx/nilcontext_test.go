package authctx_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/httpmeter/httpmeter/authctx"
)

// nilContext is a nil context.Context, which callers must not pass but
// sometimes do. Every function here treats it as context.Background.
var nilContext context.Context

func TestNilContextValues(t *testing.T) {
	_, ok := authctx.FromContext(nilContext)
	assert.False(t, ok, "FromContext(nil)")

	got, ok := authctx.FromContext(authctx.NewContext(nilContext, testCredential()))
	require.True(t, ok, "NewContext(nil, c) stores c")
	assert.Equal(t, credentialToken, got.Token)

	_, err := authctx.IdentityFromContext(nilContext)
	assert.ErrorIs(t, err, authctx.ErrNoIdentity)

	id, err := authctx.IdentityFromContext(authctx.NewIdentityContext(nilContext, authctx.Identity{Email: "ada@example.com"}))
	require.NoError(t, err)
	assert.Equal(t, "ada@example.com", id.Email)

	assert.True(t, authctx.SlowProvidersAllowed(nilContext))
	assert.False(t, authctx.SlowProvidersAllowed(authctx.WithoutSlowProviders(nilContext)))
	assert.NotNil(t, authctx.Detach(nilContext))
}

func TestNilContextGoroutines(t *testing.T) {
	done := make(chan bool)
	authctx.Go(nilContext, func(ctx context.Context) {
		_, ok := authctx.FromContext(ctx)
		done <- ok
	})
	assert.False(t, <-done, "Go(nil, fn) runs fn without a credential")

	group, groupCtx := authctx.WithGroup(nilContext)
	require.NotNil(t, groupCtx)
	group.Go(func(ctx context.Context) error {
		_, ok := authctx.FromContext(ctx)
		assert.False(t, ok)
		return nil
	})
	require.NoError(t, group.Wait())
}

func TestNilContextProviders(t *testing.T) {
	store := &tokenStore{}
	stored := newStoredToken(t, store)
	credential, err := stored.Credential(nilContext)
	require.NoError(t, err)
	assert.Equal(t, "pat---1", credential.Token)

	ts := newTokenServer(t)
	credential, err = newOAuth(t, ts).Credential(nilContext)
	require.NoError(t, err)
	assert.Equal(t, "m2m-token-1", credential.Token)

	chain := authctx.Chain(authctx.FromContextProvider{}, stored)
	credential, resolution, err := chain.Resolve(nilContext)
	require.NoError(t, err)
	assert.Equal(t, "stored-token", resolution.Provider)
	assert.Equal(t, "pat---1", credential.Token)
}
