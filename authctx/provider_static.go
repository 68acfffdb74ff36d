package authctx

import (
	"context"
	"fmt"
)

// FromContextProvider is the on-behalf-of provider: it returns the credential
// already stored in the context by [NewContext], such as the signed-in user's
// forwarded token that [Middleware] stored. Its zero value is ready to use and
// safe for concurrent use.
type FromContextProvider struct{}

// Name returns "context".
func (FromContextProvider) Name() string { return "context" }

// Credential returns the credential in ctx, or an error wrapping
// [ErrNoCredential] when ctx carries none.
func (FromContextProvider) Credential(ctx context.Context) (Credential, error) {
	c, ok := FromContext(ctx)
	if !ok {
		return Credential{}, fmt.Errorf("%w in context", ErrNoCredential)
	}
	return c, nil
}

// StaticProvider returns one fixed credential. Create it with [Static]. It is
// safe for concurrent use.
type StaticProvider struct {
	credential Credential
}

// Static returns a provider that always returns c. An empty Method becomes
// [MethodStatic]. A c without a token makes the provider return
// [ErrNoCredential].
func Static(c Credential) *StaticProvider {
	if c.Method == "" {
		c.Method = MethodStatic
	}
	return &StaticProvider{credential: c}
}

// Name returns "static".
func (p *StaticProvider) Name() string { return "static" }

// Credential returns the fixed credential, or an error wrapping
// [ErrNoCredential] when it has no token or p is nil.
func (p *StaticProvider) Credential(context.Context) (Credential, error) {
	if p == nil || p.credential.IsZero() {
		return Credential{}, fmt.Errorf("%w: the static credential has no token", ErrNoCredential)
	}
	return p.credential, nil
}
