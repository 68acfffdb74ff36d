package authctx

import "context"

// contextKey is unexported so that no other package can read or overwrite
// the value stored by NewContext.
type contextKey struct{}

// NewContext returns a copy of ctx that carries c. The credential is copied,
// so later changes to the caller's variable do not reach the context. A nil
// ctx is treated as [context.Background].
func NewContext(ctx context.Context, c Credential) context.Context {
	return context.WithValue(orBackground(ctx), contextKey{}, c)
}

// FromContext returns the credential stored in ctx by [NewContext], and
// whether it carries a token. It returns false for a nil ctx.
func FromContext(ctx context.Context) (Credential, bool) {
	if ctx == nil {
		return Credential{}, false
	}
	c, ok := ctx.Value(contextKey{}).(Credential)
	return c, ok && !c.IsZero()
}

// orBackground returns ctx, or [context.Background] when ctx is nil. The
// standard library panics on a nil parent context, and a panic on bad input
// is worse here than a context without values.
func orBackground(ctx context.Context) context.Context {
	if ctx == nil {
		return context.Background()
	}
	return ctx
}
