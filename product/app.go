package product

// App is an application identity: a name and a semantic version. The zero
// App is invalid and formats as an empty User-Agent.
type App struct {
	name    string
	version string
}

// NewApp returns the application named name at version. The name may contain
// letters, digits and . + - (not '_', which separates the feature), and the
// version must be a semantic version such as "0.1.0".
func NewApp(name, version string) (App, error) {
	if err := validateName("application", name, false); err != nil {
		return App{}, err
	}
	if err := validateVersion(version); err != nil {
		return App{}, err
	}
	return App{name: name, version: version}, nil
}

// Name returns the application name.
func (a App) Name() string { return a.name }

// Version returns the application's semantic version.
func (a App) Version() string { return a.version }

// IsZero reports whether a is the zero App.
func (a App) IsZero() bool { return a.name == "" }

// Product returns the product for one feature of the application. An empty
// feature returns the application itself, whose User-Agent is
// "<app>/<version>". A feature may contain letters, digits and _ . + -.
func (a App) Product(feature string) (Product, error) {
	if a.IsZero() {
		return Product{}, errZeroApp
	}
	if feature == "" {
		return Product{app: a}, nil
	}
	if err := validateName("feature", feature, true); err != nil {
		return Product{}, err
	}
	return Product{app: a, feature: feature}, nil
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
