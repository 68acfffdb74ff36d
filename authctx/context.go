package authctx

import "context"

// contextKey is unexported so that no other package can read or overwrite
// the value stored by NewContext.
type contextKey struct{}

// NewContext returns a copy of ctx that carries c. The credential is copied,
// so later changes to the caller's variable do not reach the context.
func NewContext(ctx context.Context, c Credential) context.Context {
	return context.WithValue(ctx, contextKey{}, c)
}

// FromContext returns the credential stored in ctx by [NewContext], and
// whether it carries a token.
func FromContext(ctx context.Context) (Credential, bool) {
	c, ok := ctx.Value(contextKey{}).(Credential)
	return c, ok && !c.IsZero()
}
