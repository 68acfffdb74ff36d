package authctx_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/httpmeter/httpmeter/authctx"
)

type workspaceKey struct{}
type groupKey struct{}

func contextString(key any) func(context.Context) string {
	return func(ctx context.Context) string {
		s, _ := ctx.Value(key).(string)
		return s
	}
}

func withKeys(ctx context.Context, workspace, group string) context.Context {
	ctx = context.WithValue(ctx, workspaceKey{}, workspace)
	return context.WithValue(ctx, groupKey{}, group)
}

// tokenStore is a lookup that counts calls and returns "pat-<workspace>-<group>-<n>".
type tokenStore struct {
	calls   atomic.Int64
	release chan struct{} // when not nil, each lookup waits for it to close
	err     error
	expiry  time.Time
}

func (s *tokenStore) lookup(ctx context.Context, workspace, group string) (authctx.Credential, error) {
	n := s.calls.Add(1)
	if s.release != nil {
		select {
		case <-s.release:
		case <-ctx.Done():
			return authctx.Credential{}, ctx.Err()
		}
	}
	if s.err != nil {
		return authctx.Credential{}, s.err
	}
	return authctx.Credential{
		Token:  fmt.Sprintf("pat-%s-%s-%d", workspace, group, n),
		Host:   "https://" + workspace,
		Expiry: s.expiry,
	}, nil
}

func newStoredToken(t *testing.T, store *tokenStore, opts ...authctx.Option) *authctx.StoredToken {
	opts = append([]authctx.Option{
		authctx.WithWorkspaceKey(contextString(workspaceKey{})),
		authctx.WithGroupKey(contextString(groupKey{})),
	}, opts...)
	p, err := authctx.NewStoredToken(store.lookup, opts...)
	require.NoError(t, err)
	return p
}

func TestStoredTokenTTL(t *testing.T) {
	store := &tokenStore{}
	clock := newFakeClock()
	p := newStoredToken(t, store, authctx.WithClock(clock.Now), authctx.WithTTL(time.Minute))
	ctx := withKeys(t.Context(), "ws1", "team-a")

	first, err := p.Credential(ctx)
	require.NoError(t, err)
	assert.Equal(t, "pat-ws1-team-a-1", first.Token)
	assert.Equal(t, authctx.MethodPAT, first.Method)

	clock.Advance(59 * time.Second)
	cached, err := p.Credential(ctx)
	require.NoError(t, err)
	assert.Equal(t, first.Token, cached.Token)
	assert.Equal(t, int64(1), store.calls.Load())

	clock.Advance(time.Second)
	again, err := p.Credential(ctx)
	require.NoError(t, err)
	assert.Equal(t, "pat-ws1-team-a-2", again.Token)
	assert.Equal(t, int64(2), store.calls.Load())
}

func TestStoredTokenExpiryBeforeTTL(t *testing.T) {
	clock := newFakeClock()
	store := &tokenStore{expiry: clock.Now().Add(10 * time.Second)}
	p := newStoredToken(t, store, authctx.WithClock(clock.Now), authctx.WithTTL(time.Hour))
	ctx := withKeys(t.Context(), "ws1", "")

	_, err := p.Credential(ctx)
	require.NoError(t, err)

	clock.Advance(10 * time.Second)
	_, err = p.Credential(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(2), store.calls.Load(), "an expiring token is cached only until its expiry")
}

func TestStoredTokenKeys(t *testing.T) {
	store := &tokenStore{}
	p := newStoredToken(t, store)

	a, err := p.Credential(withKeys(t.Context(), "ws1", "team-a"))
	require.NoError(t, err)
	b, err := p.Credential(withKeys(t.Context(), "ws1", "team-b"))
	require.NoError(t, err)
	c, err := p.Credential(withKeys(t.Context(), "ws1team-", "a"))
	require.NoError(t, err)

	assert.Equal(t, "pat-ws1-team-a-1", a.Token)
	assert.Equal(t, "pat-ws1-team-b-2", b.Token)
	assert.Equal(t, "pat-ws1team--a-3", c.Token, "keys that concatenate alike stay apart")
}

func TestStoredTokenNegativeCache(t *testing.T) {
	store := &tokenStore{err: fmt.Errorf("%w: no row for this group", authctx.ErrNoCredential)}
	clock := newFakeClock()
	p := newStoredToken(t, store, authctx.WithClock(clock.Now), authctx.WithNegativeTTL(5*time.Second))
	ctx := withKeys(t.Context(), "ws1", "team-a")

	_, err := p.Credential(ctx)
	require.ErrorIs(t, err, authctx.ErrNoCredential)
	assert.EqualError(t, err, `authctx: stored token for workspace "ws1" group "team-a": authctx: no credential: no row for this group`)

	clock.Advance(4 * time.Second)
	_, err = p.Credential(ctx)
	require.ErrorIs(t, err, authctx.ErrNoCredential)
	assert.Equal(t, int64(1), store.calls.Load(), "the failure is remembered")

	clock.Advance(time.Second)
	store.err = nil
	got, err := p.Credential(ctx)
	require.NoError(t, err)
	assert.Equal(t, "pat-ws1-team-a-2", got.Token)
}

func TestStoredTokenTimeoutNotCached(t *testing.T) {
	store := &tokenStore{release: make(chan struct{})}
	p := newStoredToken(t, store, authctx.WithLookupTimeout(20*time.Millisecond))
	ctx := withKeys(t.Context(), "ws1", "")

	_, err := p.Credential(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)

	close(store.release)
	got, err := p.Credential(ctx)
	require.NoError(t, err, "a timed-out lookup is not remembered")
	assert.Equal(t, "pat-ws1--2", got.Token)
}

func TestStoredTokenEmptyResult(t *testing.T) {
	p, err := authctx.NewStoredToken(func(context.Context, string, string) (authctx.Credential, error) {
		return authctx.Credential{}, nil
	})
	require.NoError(t, err)

	_, err = p.Credential(t.Context())

	require.ErrorIs(t, err, authctx.ErrNoCredential)
	assert.Contains(t, err.Error(), "the lookup returned an empty token")
}

func TestStoredTokenSingleflight(t *testing.T) {
	store := &tokenStore{release: make(chan struct{})}
	p := newStoredToken(t, store, authctx.WithLookupTimeout(5*time.Second))
	ctx := withKeys(t.Context(), "ws1", "team-a")

	const callers = 50
	var wg sync.WaitGroup
	tokens := make([]string, callers)
	errs := make([]error, callers)
	for i := range callers {
		wg.Go(func() {
			c, err := p.Credential(ctx)
			tokens[i], errs[i] = c.Token, err
		})
	}

	require.Eventually(t, func() bool { return store.calls.Load() >= 1 }, 5*time.Second, time.Millisecond)
	time.Sleep(20 * time.Millisecond) // let late callers reach the shared lookup
	close(store.release)
	wg.Wait()

	assert.Equal(t, int64(1), store.calls.Load())
	for i := range callers {
		require.NoError(t, errs[i])
		assert.Equal(t, "pat-ws1-team-a-1", tokens[i])
	}
}

func TestStoredTokenLookupContext(t *testing.T) {
	type traceKey struct{}
	var (
		sawTrace       any
		sawSlowAllowed bool
		sawCredential  bool
		sawDeadline    bool
		sawCancelled   bool
	)
	release := make(chan struct{})
	p, err := authctx.NewStoredToken(func(ctx context.Context, _, _ string) (authctx.Credential, error) {
		<-release
		sawTrace = ctx.Value(traceKey{})
		sawSlowAllowed = authctx.SlowProvidersAllowed(ctx)
		_, sawCredential = authctx.FromContext(ctx)
		_, sawDeadline = ctx.Deadline()
		sawCancelled = ctx.Err() != nil
		return authctx.Credential{Token: "pat-ctx"}, nil
	})
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.WithValue(authctx.NewContext(t.Context(), testCredential()), traceKey{}, "trace-1"))
	done := make(chan error, 1)
	go func() {
		_, err := p.Credential(ctx)
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	cancel()
	require.ErrorIs(t, <-done, context.Canceled, "the caller stops waiting")

	close(release)
	require.Eventually(t, func() bool {
		c, err := p.Credential(t.Context())
		return err == nil && c.Token == "pat-ctx"
	}, 5*time.Second, time.Millisecond)

	assert.Equal(t, "trace-1", sawTrace, "context values reach the lookup")
	assert.False(t, sawSlowAllowed, "the lookup cannot re-enter slow providers")
	assert.False(t, sawCredential, "the user's credential does not reach a shared lookup")
	assert.True(t, sawDeadline, "the lookup timeout applies")
	assert.False(t, sawCancelled, "the caller's cancellation does not reach the lookup")
}

func TestStoredTokenConstructorErrors(t *testing.T) {
	lookup := (&tokenStore{}).lookup
	cases := []struct {
		name   string
		lookup authctx.TokenLookup
		opts   []authctx.Option
		want   string
	}{
		{"nil lookup", nil, nil, "stored token lookup is nil"},
		{"negative ttl", lookup, []authctx.Option{authctx.WithTTL(-time.Second)}, "TTL -1s is negative"},
		{"negative negative ttl", lookup, []authctx.Option{authctx.WithNegativeTTL(-time.Second)}, "negative TTL -1s is negative"},
		{"zero timeout", lookup, []authctx.Option{authctx.WithLookupTimeout(0)}, "lookup timeout 0s is not positive"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := authctx.NewStoredToken(tc.lookup, tc.opts...)

			require.Error(t, err)
			assert.Nil(t, p)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestStoredTokenNameAndSlow(t *testing.T) {
	p := newStoredToken(t, &tokenStore{})

	assert.Equal(t, "stored-token", p.Name())
	assert.True(t, p.Slow())
}
