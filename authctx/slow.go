package authctx

import "context"

// SlowProvider is implemented by providers that do slow or re-entrant work,
// such as a database query or an HTTP token request, to resolve a credential.
// A [Chain] skips a provider whose Slow method returns true when the context
// was made by [WithoutSlowProviders].
type SlowProvider interface {
	Provider

	// Slow reports whether resolving a credential can wait on I/O.
	Slow() bool
}

type noSlowProvidersKey struct{}

// WithoutSlowProviders returns a copy of ctx in which a [Chain] skips slow
// providers. Code that runs after a response, such as a usage sink, should use
// it, because the usage event already carries the credential captured with
// the request and a database wait or token request there only adds latency.
// The stored-token and OAuth providers also use it for their own lookups, so
// a lookup that sends a request through the same chain cannot call itself.
// A nil ctx is treated as [context.Background].
func WithoutSlowProviders(ctx context.Context) context.Context {
	return context.WithValue(orBackground(ctx), noSlowProvidersKey{}, true)
}

// SlowProvidersAllowed reports whether a [Chain] may call slow providers for
// ctx, that is, whether ctx was not made by [WithoutSlowProviders]. It
// returns true for a nil ctx.
func SlowProvidersAllowed(ctx context.Context) bool {
	if ctx == nil {
		return true
	}
	forbidden, _ := ctx.Value(noSlowProvidersKey{}).(bool)
	return !forbidden
}

// isSlow reports whether p declares itself slow.
func isSlow(p Provider) bool {
	s, ok := p.(SlowProvider)
	return ok && s.Slow()
}

// sharedWorkContext returns the context for work whose result many callers
// share, such as a token lookup. It keeps the values of ctx but drops its
// cancellation and its credential. It also forbids slow providers, so the
// work cannot call back into the provider that started it.
func sharedWorkContext(ctx context.Context) context.Context {
	ctx = context.WithoutCancel(ctx)
	ctx = NewContext(ctx, Credential{})
	return WithoutSlowProviders(ctx)
}
