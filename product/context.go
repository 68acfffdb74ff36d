package product

import "context"

// contextKey is unexported so that no other package can read or overwrite
// the value stored by NewContext.
type contextKey struct{}

// NewContext returns a copy of ctx that carries p. A nil ctx is treated as
// [context.Background]. A zero p is stored too and hides the product of an
// outer context, so code can clear the product for a sub-operation, such as
// telemetry traffic that must not be attributed to a feature.
func NewContext(ctx context.Context, p Product) context.Context {
	if ctx == nil {
		ctx = context.Background()
	}
	return context.WithValue(ctx, contextKey{}, p)
}

// FromContext returns the product stored in ctx by [NewContext], and whether
// it is non-zero. It returns the zero Product and false for a nil ctx, for a
// ctx without a product and for a ctx whose innermost product is zero.
func FromContext(ctx context.Context) (Product, bool) {
	if ctx == nil {
		return Product{}, false
	}
	p, _ := ctx.Value(contextKey{}).(Product)
	return p, !p.IsZero()
}
