package product

import (
	"fmt"
	"regexp"
)

// semverPattern is the regular expression published with Semantic Versioning
// 2.0.0 (semver.org), anchored to the whole string.
var semverPattern = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)` +
	`(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?` +
	`(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)

// maxNameLength bounds names so that a User-Agent built from them stays well
// below the header limits of common proxies.
const maxNameLength = 64

// validateName checks a name against the Databricks SDK's User-Agent rule
// [0-9A-Za-z_.+-], which is stricter than the RFC 9110 token characters.
// Application names additionally reject '_' because it separates the
// application from the feature.
func validateName(kind, name string, allowUnderscore bool) error {
	if name == "" {
		return fmt.Errorf("product: %s name is empty: use letters, digits and . + -", kind)
	}
	if len(name) > maxNameLength {
		return fmt.Errorf("product: %s name %q is %d bytes long: use at most %d", kind, name, len(name), maxNameLength)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '.', c == '+', c == '-':
		case c == '_' && allowUnderscore:
		case c == '_':
			return fmt.Errorf("product: %s name %q contains '_', which separates the application from the feature: use '-' instead", kind, name)
		default:
			return fmt.Errorf("product: %s name %q contains %q at byte %d: use only letters, digits and _ . + -", kind, name, c, i)
		}
	}
	return nil
}

func validateVersion(version string) error {
	if !semverPattern.MatchString(version) {
		return fmt.Errorf("product: version %q is not a semantic version: use MAJOR.MINOR.PATCH such as 0.1.0", version)
	}
	return nil
}
