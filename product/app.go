package product

import "fmt"

// App is an application identity: a name and a semantic version. NewApp
// validates both, so every non-zero App formats as a valid User-Agent product
// token. An App is an immutable, comparable value and is safe for concurrent
// use. The zero App means "no application" and formats as "".
type App struct {
	name    string
	version string
}

// NewApp validates name and version and returns the application they name.
// The name is 1 to 64 bytes of letters, digits and . + - (not '_', which
// separates the feature), and the version is a semantic version such as
// "0.1.0" or "1.2.0-rc.1+build.7" of at most 128 bytes. The error names the
// invalid value and how to fix it.
func NewApp(name, version string) (App, error) {
	a, err := newApp(name, version)
	if err != nil {
		return App{}, fmt.Errorf("product: %w", err)
	}
	return a, nil
}

// newApp is NewApp with errors that have no package prefix, so that
// ParseUserAgent can wrap them with the token it parsed.
func newApp(name, version string) (App, error) {
	if err := validateName("application name", name, false); err != nil {
		return App{}, err
	}
	if err := validateVersion(version); err != nil {
		return App{}, err
	}
	return App{name: name, version: version}, nil
}

// Name returns the application name, or "" for the zero App.
func (a App) Name() string { return a.name }

// Version returns the application's semantic version, or "" for the zero App.
func (a App) Version() string { return a.version }

// IsZero reports whether a is the zero App.
func (a App) IsZero() bool { return a.name == "" }

// Product validates feature and returns the product for that feature of the
// application, whose User-Agent is "<app>_<feature>/<version>". A feature is
// 1 to 64 bytes of letters, digits and _ . + -. An empty feature returns the
// application itself, the same value as [App.AsProduct]. Product returns an
// error for the zero App.
func (a App) Product(feature string) (Product, error) {
	if a.IsZero() {
		return Product{}, errZeroApp
	}
	if feature == "" {
		return Product{app: a}, nil
	}

	if err := validateName("feature name", feature, true); err != nil {
		return Product{}, fmt.Errorf("product: %w", err)
	}
	return Product{app: a, feature: feature}, nil
}

// AsProduct returns the application itself as a product, whose User-Agent is
// "<app>/<version>". It cannot fail, unlike a.Product(""), and returns the
// zero Product for the zero App.
func (a App) AsProduct() Product {
	return Product{app: a}
}

// UserAgent returns "<app>/<version>", the product token of the application
// itself, or "" for the zero App.
func (a App) UserAgent() string {
	if a.IsZero() {
		return ""
	}
	return a.name + "/" + a.version
}

// String returns the same value as [App.UserAgent].
func (a App) String() string { return a.UserAgent() }
