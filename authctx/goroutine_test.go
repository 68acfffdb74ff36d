package authctx_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/httpmeter/httpmeter/authctx"
)

func TestDetachKeepsValuesDropsCancel(t *testing.T) {
	type productKey struct{}
	parent, cancel := context.WithTimeout(authctx.NewContext(t.Context(), testCredential()), time.Minute)
	parent = context.WithValue(parent, productKey{}, "acme_crew/0.1.0")

	detached := authctx.Detach(parent)
	cancel()

	require.Error(t, parent.Err())
	assert.NoError(t, detached.Err())
	assert.Nil(t, detached.Done())
	_, hasDeadline := detached.Deadline()
	assert.False(t, hasDeadline)

	c, ok := authctx.FromContext(detached)
	require.True(t, ok)
	assert.Equal(t, credentialToken, c.Token)
	assert.Equal(t, "acme_crew/0.1.0", detached.Value(productKey{}))
}

func TestGoCarriesCredential(t *testing.T) {
	parent, cancel := context.WithCancel(authctx.NewContext(t.Context(), testCredential()))
	started := make(chan struct{})
	proceed := make(chan struct{})
	type result struct {
		token string
		ok    bool
		err   error
	}
	results := make(chan result, 1)

	authctx.Go(parent, func(ctx context.Context) {
		close(started)
		<-proceed
		c, ok := authctx.FromContext(ctx)
		results <- result{token: c.Token, ok: ok, err: ctx.Err()}
	})
	<-started
	cancel() // the request ends while the goroutine still works
	close(proceed)
	got := <-results

	assert.True(t, got.ok)
	assert.Equal(t, credentialToken, got.token)
	assert.NoError(t, got.err, "the goroutine outlives the caller's cancellation")
}

func TestBareGoroutineHasNoCredential(t *testing.T) {
	chain := authctx.Chain(authctx.FromContextProvider{})
	requestCtx := authctx.NewContext(t.Context(), testCredential())
	_, err := chain.Credential(requestCtx)
	require.NoError(t, err)

	errs := make(chan error, 1)
	go func() {
		_, err := chain.Credential(context.Background())
		errs <- err
	}()

	require.ErrorIs(t, <-errs, authctx.ErrNoCredential, "the goroutine fails closed")
}

func TestNewGroupCarriesCredential(t *testing.T) {
	g := authctx.NewGroup(authctx.NewContext(t.Context(), testCredential()))
	var seen atomic.Int64

	for range 10 {
		g.Go(func(ctx context.Context) error {
			c, ok := authctx.FromContext(ctx)
			if !ok || c.Token != credentialToken {
				return errors.New("credential missing in group function")
			}
			seen.Add(1)
			return nil
		})
	}

	require.NoError(t, g.Wait())
	assert.Equal(t, int64(10), seen.Load())
}

func TestWithGroupCancelsOnError(t *testing.T) {
	g, groupCtx := authctx.WithGroup(authctx.NewContext(t.Context(), testCredential()))
	boom := errors.New("first failure")

	g.Go(func(context.Context) error { return boom })
	g.Go(func(ctx context.Context) error {
		<-ctx.Done()
		_, ok := authctx.FromContext(ctx)
		if !ok {
			return errors.New("credential missing after cancellation")
		}
		return nil
	})

	require.ErrorIs(t, g.Wait(), boom)
	assert.Error(t, groupCtx.Err())
}

func TestGroupLimitAndZeroValue(t *testing.T) {
	var g authctx.Group
	g.SetLimit(1)
	release := make(chan struct{})

	require.True(t, g.TryGo(func(ctx context.Context) error {
		<-release
		_, ok := authctx.FromContext(ctx)
		assert.False(t, ok, "a zero group passes a context without credential")
		return nil
	}))
	assert.False(t, g.TryGo(func(context.Context) error { return nil }), "the limit is reached")

	close(release)
	require.NoError(t, g.Wait())
}

func TestGoNilFunctions(t *testing.T) {
	authctx.Go(t.Context(), nil)

	g := authctx.NewGroup(t.Context())
	g.Go(nil)

	assert.ErrorContains(t, g.Wait(), "nil function")
}
