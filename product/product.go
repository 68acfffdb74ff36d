package product

import "errors"

var errZeroApp = errors.New("product: the App is the zero value: create it with product.NewApp")

// Product is one feature of an [App], or the App itself when the feature is
// empty. A Product is an immutable, comparable value (usable as a map key)
// and is safe for concurrent use. The zero Product means "no product" and
// formats as "".
type Product struct {
	app     App
	feature string
}

// App returns the application the product belongs to, or the zero App for
// the zero Product.
func (p Product) App() App { return p.app }

// Feature returns the feature name, or "" for the application itself and for
// the zero Product.
func (p Product) Feature() string { return p.feature }

// IsZero reports whether p is the zero Product.
func (p Product) IsZero() bool { return p.app.IsZero() }

// UserAgent returns the User-Agent product token "<app>_<feature>/<version>",
// or "<app>/<version>" when the feature is empty, or "" for the zero Product.
// [ParseUserAgent] parses the token back into p.
func (p Product) UserAgent() string {
	if p.IsZero() {
		return ""
	}
	if p.feature == "" {
		return p.app.UserAgent()
	}
	return p.app.name + "_" + p.feature + "/" + p.app.version
}

// String returns the same value as [Product.UserAgent].
func (p Product) String() string { return p.UserAgent() }
