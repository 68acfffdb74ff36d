package product

import "context"

// contextKey is unexported so that no other package can read or overwrite
// the value stored by NewContext.
type contextKey struct{}

// NewContext returns a copy of ctx that carries p. A zero p is stored too,
// which hides any product of an outer context.
func NewContext(ctx context.Context, p Product) context.Context {
	return context.WithValue(ctx, contextKey{}, p)
}

// FromContext returns the product stored in ctx by [NewContext], and whether
// there was one.
func FromContext(ctx context.Context) (Product, bool) {
	p, ok := ctx.Value(contextKey{}).(Product)
	return p, ok && !p.IsZero()
}
