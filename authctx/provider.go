package authctx

import (
	"context"
	"errors"
)

// ErrNoCredential is returned, possibly wrapped, by a [Provider] that has no
// credential for a context. A [Chain] then tries the next provider; any other
// error stops the chain.
var ErrNoCredential = errors.New("authctx: no credential")

// Provider resolves the credential to use for a context. Implementations must
// be safe for concurrent use and must never put a token in an error.
type Provider interface {
	// Name identifies the provider in chain reports and logs, such as "env".
	Name() string

	// Credential returns the credential for ctx, or an error wrapping
	// ErrNoCredential when the provider has none for it.
	Credential(ctx context.Context) (Credential, error)
}
