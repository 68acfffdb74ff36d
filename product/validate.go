package product

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// semverPattern is the regular expression published with Semantic Versioning
// 2.0.0 (semver.org), anchored to the whole string. Go's RE2 matches \d and $
// as ASCII digits and end of text, so "1.2.3\n" is rejected.
var semverPattern = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)` +
	`(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?` +
	`(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)

// maxNameLength is the maximum length in bytes of an application name, a
// feature name and an extra's key or value. It is a project choice that keeps
// a User-Agent built from them short, not a limit of HTTP or of Databricks.
const maxNameLength = 64

// maxVersionLength is the maximum length in bytes of a version. It leaves
// room for a pre-release and build metadata such as "0.0.0-dev+<40-hex sha>".
const maxVersionLength = 128

// maxQuotedLength is the maximum number of bytes of a value that an error
// quotes. ParseUserAgent can be given a User-Agent from an untrusted client,
// and an error that repeated a megabyte of it would carry it into every log
// line that records the error. The limit is twice the longest valid
// version, so a value that is only slightly too long is still quoted whole.
const maxQuotedLength = 2 * maxVersionLength

// quotePrefix returns s quoted for an error message, cut to its first
// maxQuotedLength bytes and followed by "..." when it is longer.
func quotePrefix(s string) string {
	if len(s) <= maxQuotedLength {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:maxQuotedLength]) + "..."
}

// validateName checks one name against the Databricks SDK's User-Agent rule
// [0-9A-Za-z_.+-] (useragent.matchAlphanum in databricks-sdk-go v0.100.0),
// which is stricter than the RFC 9110 token characters. Application names
// also reject '_' because it separates the application from the feature.
// kind names the value in the error, for example "feature name".
func validateName(kind, name string, allowUnderscore bool) error {
	allowed := "letters, digits and . + -"
	if allowUnderscore {
		allowed = "letters, digits and _ . + -"
	}

	if name == "" {
		return fmt.Errorf("%s is empty: use 1 to %d %s", kind, maxNameLength, allowed)
	}
	if len(name) > maxNameLength {
		return fmt.Errorf("%s %s is too long (%d bytes): use at most %d", kind, quotePrefix(name), len(name), maxNameLength)
	}

	for i, r := range name {
		switch {
		case isNameChar(r):
		case r == '_' && allowUnderscore:
		case r == '_':
			return fmt.Errorf("%s %q contains '_', which separates the application from the feature: use '-' instead", kind, name)
		case r == utf8.RuneError && !strings.HasPrefix(name[i:], string(utf8.RuneError)):
			return fmt.Errorf("%s %q contains the invalid UTF-8 byte 0x%02x at byte %d: use only %s", kind, name, name[i], i, allowed)
		default:
			return fmt.Errorf("%s %q contains the invalid character %q at byte %d: use only %s", kind, name, r, i, allowed)
		}
	}
	return nil
}

// isNameChar reports whether r is one of [0-9A-Za-z.+-].
func isNameChar(r rune) bool {
	return r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' ||
		r == '.' || r == '+' || r == '-'
}

// validateVersion checks that version is a Semantic Versioning 2.0.0 version
// of at most maxVersionLength bytes.
func validateVersion(version string) error {
	if version == "" {
		return fmt.Errorf("version is empty: use MAJOR.MINOR.PATCH such as 0.1.0")
	}
	if len(version) > maxVersionLength {
		return fmt.Errorf("version %s is too long (%d bytes): use at most %d", quotePrefix(version), len(version), maxVersionLength)
	}
	if semverPattern.MatchString(version) {
		return nil
	}

	if rest, ok := strings.CutPrefix(version, "v"); ok && semverPattern.MatchString(rest) {
		return fmt.Errorf("version %q is not a semantic version: drop the leading 'v' and use %q", version, rest)
	}
	return fmt.Errorf("version %q is not a semantic version: use MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD] such as 0.1.0 or 1.2.0-rc.1", version)
}
