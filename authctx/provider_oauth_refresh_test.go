package authctx_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/httpmeter/httpmeter/authctx"
)

// TestOAuthM2MRefreshDoesNotHoldOthers checks that while one caller waits for
// a refresh inside the leeway, other callers get the still-valid token at
// once instead of waiting for a token endpoint that may take the whole
// request timeout.
func TestOAuthM2MRefreshDoesNotHoldOthers(t *testing.T) {
	ts := newTokenServer(t)
	ts.expiresIn = 60
	clock := newFakeClock()
	p := newOAuth(t, ts, authctx.WithClock(clock.Now), authctx.WithRefreshLeeway(30*time.Second))

	first, err := p.Credential(t.Context())
	require.NoError(t, err)

	ts.holdRequests(t)
	clock.Advance(45 * time.Second)
	refreshed := make(chan authctx.Credential, 1)
	go func() {
		c, _ := p.Credential(context.Background())
		refreshed <- c
	}()
	require.Eventually(t, func() bool { return ts.calls.Load() == 2 }, 5*time.Second, time.Millisecond)

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	other, err := p.Credential(ctx)
	require.NoError(t, err, "another caller does not wait for the refresh")
	assert.Equal(t, first.Token, other.Token)

	ts.openRequests()
	assert.Equal(t, "m2m-token-2", (<-refreshed).Token, "the caller that started the refresh gets the new token")
	latest, err := p.Credential(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "m2m-token-2", latest.Token)
	assert.Equal(t, int64(2), ts.calls.Load())
}

// TestOAuthM2MRefreshHoldsWithoutValidToken checks that callers still wait
// for the refresh when the cached token has expired.
func TestOAuthM2MRefreshHoldsWithoutValidToken(t *testing.T) {
	ts := newTokenServer(t)
	ts.expiresIn = 60
	clock := newFakeClock()
	p := newOAuth(t, ts, authctx.WithClock(clock.Now))

	_, err := p.Credential(t.Context())
	require.NoError(t, err)

	ts.holdRequests(t)
	clock.Advance(61 * time.Second)
	refreshed := make(chan error, 1)
	go func() {
		_, err := p.Credential(context.Background())
		refreshed <- err
	}()
	require.Eventually(t, func() bool { return ts.calls.Load() == 2 }, 5*time.Second, time.Millisecond)

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err = p.Credential(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded, "an expired token is never returned")

	ts.openRequests()
	require.NoError(t, <-refreshed)
}
