package product

import (
	"fmt"
	"strings"
)

// ParseUserAgent parses one product token such as "acme_crew_gen/0.1.0" into
// its Product: application "acme", feature "crew_gen", version "0.1.0". The
// application name ends at the first '_', so features that contain '_'
// round-trip through [Product.UserAgent].
func ParseUserAgent(token string) (Product, error) {
	nameAndFeature, version, ok := strings.Cut(token, "/")
	if !ok {
		return Product{}, fmt.Errorf("product: User-Agent token %q has no '/': use <app>[_<feature>]/<version>", token)
	}
	name, feature, _ := strings.Cut(nameAndFeature, "_")

	app, err := NewApp(name, version)
	if err != nil {
		return Product{}, err
	}
	if strings.Contains(nameAndFeature, "_") && feature == "" {
		return Product{}, fmt.Errorf("product: User-Agent token %q has an empty feature after '_'", token)
	}
	return app.Product(feature)
}
