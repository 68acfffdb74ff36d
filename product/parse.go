package product

import (
	"fmt"
	"strings"
)

// ParseUserAgent parses one product token such as "acme_crew_gen/0.1.0" into
// its Product: application "acme", feature "crew_gen", version "0.1.0". The
// application name ends at the first '_', so features that contain '_'
// round-trip through [Product.UserAgent]. It accepts exactly the tokens that
// Product.UserAgent formats, so p.UserAgent() equals token on success.
//
// A User-Agent header holds several tokens separated by spaces, such as
// "acme_mcp/0.1.0 databricks-sdk-go/0.100.0". Split it with [strings.Fields]
// and parse the token that belongs to the application. Errors quote at most
// the first 256 bytes of a longer token, so a client cannot put a large
// header into logs through them.
func ParseUserAgent(token string) (Product, error) {
	p, err := parseUserAgent(token)
	if err == nil {
		return p, nil
	}

	if len(token) > maxQuotedLength {
		return Product{}, fmt.Errorf("product: User-Agent token %s (%d bytes): %w", quotePrefix(token), len(token), err)
	}
	return Product{}, fmt.Errorf("product: User-Agent token %q: %w", token, err)
}

func parseUserAgent(token string) (Product, error) {
	nameAndFeature, version, ok := strings.Cut(token, "/")
	if !ok {
		return Product{}, fmt.Errorf("missing '/': use <app>[_<feature>]/<version> such as acme_mcp/0.1.0")
	}

	name, feature, hasFeature := strings.Cut(nameAndFeature, "_")
	app, err := newApp(name, version)
	if err != nil {
		return Product{}, err
	}

	if !hasFeature {
		return app.AsProduct(), nil
	}
	if err := validateName("feature name", feature, true); err != nil {
		return Product{}, err
	}
	return Product{app: app, feature: feature}, nil
}
