package authctx

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// TokenLookup returns the stored personal access token for a workspace and
// group, for example from a database table. It must be safe for concurrent
// use, must never put the token in an error or a panic value, and should
// return an error wrapping [ErrNoCredential] when no token is stored for the
// key. It must return when ctx is done: the lookup timeout cancels ctx but
// cannot stop a lookup that ignores it, and until it returns, every call for
// the same workspace and group waits for its result or for its own context
// to end.
type TokenLookup func(ctx context.Context, workspace, group string) (Credential, error)

// maxStoredTokenEntries bounds the cache before expired entries are swept.
const maxStoredTokenEntries = 1024

// StoredToken returns personal access tokens found by a [TokenLookup], keyed by
// the workspace and group that its key functions read from the context.
// Create it with [NewStoredToken]. It is safe for concurrent use.
//
// Found tokens are reused for the TTL and failures for the negative TTL.
// Concurrent calls for one key share a single lookup. It runs with the first
// caller's context values but without its cancellation and without its
// credential, because its result is shared, bounded by the lookup timeout and
// inside [WithoutSlowProviders]. A caller whose context ends stops waiting
// without cancelling the lookup for the others.
type StoredToken struct {
	lookup   TokenLookup
	settings settings
	flight   singleflight.Group

	mu      sync.Mutex
	entries map[storedTokenKey]storedTokenEntry
}

type storedTokenKey struct {
	workspace string
	group     string
}

// storedTokenEntry is one cached lookup result: a credential or an error.
type storedTokenEntry struct {
	credential Credential
	err        error
	until      time.Time
}

// NewStoredToken returns a provider that looks tokens up with lookup. It reads
// [WithTTL], [WithNegativeTTL], [WithLookupTimeout], [WithWorkspaceKey],
// [WithGroupKey], [WithClock] and [WithLogger].
func NewStoredToken(lookup TokenLookup, opts ...Option) (*StoredToken, error) {
	if lookup == nil {
		return nil, errors.New("authctx: stored token lookup is nil; pass a function that reads the token store")
	}

	s := newSettings(opts)
	if s.ttl < 0 {
		return nil, fmt.Errorf("authctx: stored token TTL %v is negative; use 0 to turn caching off", s.ttl)
	}
	if s.negativeTTL < 0 {
		return nil, fmt.Errorf("authctx: stored token negative TTL %v is negative; use 0 to turn negative caching off", s.negativeTTL)
	}
	if s.lookupTimeout <= 0 {
		return nil, fmt.Errorf("authctx: stored token lookup timeout %v is not positive; use a duration such as %v", s.lookupTimeout, DefaultLookupTimeout)
	}

	return &StoredToken{lookup: lookup, settings: s, entries: make(map[storedTokenKey]storedTokenEntry)}, nil
}

// Name returns "stored-token".
func (p *StoredToken) Name() string { return "stored-token" }

// Slow returns true, because a lookup usually queries a database.
func (p *StoredToken) Slow() bool { return true }

// Credential returns the stored token for the workspace and group of ctx, from
// the cache or from one shared lookup. Errors name the workspace and group;
// a lookup error is wrapped, so errors.Is finds [ErrNoCredential] in it. A
// panic in the lookup is returned as an error that contains the panic value.
func (p *StoredToken) Credential(ctx context.Context) (Credential, error) {
	if p == nil || p.lookup == nil {
		return Credential{}, errors.New("authctx: the StoredToken provider is not initialized; create it with authctx.NewStoredToken")
	}

	ctx = orBackground(ctx)
	key := storedTokenKey{workspace: p.settings.workspaceKey(ctx), group: p.settings.groupKey(ctx)}

	if entry, ok := p.cached(key); ok {
		return entry.credential, entry.err
	}

	results := p.flight.DoChan(key.flightKey(), func() (any, error) {
		// A call that missed the cache just before the previous lookup stored
		// its result would otherwise start a second lookup.
		if entry, ok := p.cached(key); ok {
			return entry, nil
		}
		return p.lookupAndStore(ctx, key), nil
	})

	select {
	case result := <-results:
		entry := result.Val.(storedTokenEntry)
		return entry.credential, entry.err
	case <-ctx.Done():
		return Credential{}, fmt.Errorf("authctx: stored token for workspace %q group %q: %w", key.workspace, key.group, context.Cause(ctx))
	}
}

// flightKey encodes k without ambiguity, whatever characters the parts hold.
func (k storedTokenKey) flightKey() string {
	return strconv.Itoa(len(k.workspace)) + ":" + k.workspace + k.group
}

// cached returns the unexpired cache entry for key.
func (p *StoredToken) cached(key storedTokenKey) (storedTokenEntry, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()

	entry, ok := p.entries[key]
	if !ok || !p.settings.now().Before(entry.until) {
		return storedTokenEntry{}, false
	}
	return entry, true
}

// lookupAndStore runs one lookup for key and caches its outcome.
func (p *StoredToken) lookupAndStore(callerCtx context.Context, key storedTokenKey) storedTokenEntry {
	ctx, cancel := context.WithTimeout(sharedWorkContext(callerCtx), p.settings.lookupTimeout)
	defer cancel()

	credential, err := p.callLookup(ctx, key)
	if err == nil && credential.IsZero() {
		err = fmt.Errorf("%w: the lookup returned an empty token", ErrNoCredential)
	}
	if err != nil {
		entry := storedTokenEntry{err: fmt.Errorf("authctx: stored token for workspace %q group %q: %w", key.workspace, key.group, err)}
		p.settings.logger.LogAttrs(ctx, levelFor(err), "authctx: stored token lookup failed",
			slogWorkspace(key.workspace), slogGroup(key.group), slogError(err))

		// A timed-out or cancelled lookup is no evidence about the store, so the
		// next call tries again.
		if ctx.Err() == nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			p.store(key, entry, p.settings.negativeTTL)
		}
		return entry
	}

	if credential.Method == "" {
		credential.Method = MethodPAT
	}
	ttl := p.settings.ttl
	if !credential.Expiry.IsZero() {
		ttl = min(ttl, credential.Expiry.Sub(p.settings.now()))
	}
	entry := storedTokenEntry{credential: credential}
	p.store(key, entry, ttl)
	return entry
}

// callLookup calls the lookup and returns a panic in it as an error.
func (p *StoredToken) callLookup(ctx context.Context, key storedTokenKey) (credential Credential, err error) {
	defer recoverSharedWork(ctx, p.settings.logger, "stored token lookup", &err)
	return p.lookup(ctx, key.workspace, key.group)
}

// store caches entry for ttl; a ttl of zero or less stores nothing.
func (p *StoredToken) store(key storedTokenKey, entry storedTokenEntry, ttl time.Duration) {
	if ttl <= 0 {
		return
	}

	p.mu.Lock()
	defer p.mu.Unlock()

	now := p.settings.now()
	if len(p.entries) >= maxStoredTokenEntries {
		for k, e := range p.entries {
			if !now.Before(e.until) {
				delete(p.entries, k)
			}
		}
	}
	// NOTE: when every entry is still live the map grows past the bound; it
	// holds one entry per workspace and group that callers use.
	entry.until = now.Add(ttl)
	p.entries[key] = entry
}
