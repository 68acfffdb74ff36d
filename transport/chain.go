package transport

import "net/http"

// Chain stacks layers on top of base and returns the outermost RoundTripper.
// The first layer is the outermost: Chain(base, a, b) returns a(b(base)), so
// a request passes through a, then b, then base. A nil layer is skipped, and
// a nil base stays nil, which each layer of this package resolves to
// http.DefaultTransport per request. With no layers Chain returns base.
func Chain(base http.RoundTripper, layers ...func(http.RoundTripper) http.RoundTripper) http.RoundTripper {
	rt := base
	for i := len(layers) - 1; i >= 0; i-- {
		if layers[i] == nil {
			continue
		}
		rt = layers[i](rt)
	}
	return rt
}
