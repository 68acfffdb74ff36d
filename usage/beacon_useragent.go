package usage

import (
	"fmt"
	"strconv"
	"strings"
)

// beaconEmptyField is written in place of an empty feature or model. A value
// that is exactly "-" is escaped to "%2D", so the placeholder stays
// unambiguous.
const beaconEmptyField = "-"

// BeaconUserAgent holds the fields of a usage beacon's User-Agent:
//
//	<app>_telemetry/<version>/<feature>/model=<model>/input_tokens=<n>/output_tokens=<n>
//
// [BeaconUserAgent.String] escapes every value, so the header is a valid field
// value whatever the model or feature contains, and [ParseBeaconUserAgent]
// returns the original values.
type BeaconUserAgent struct {
	App          string
	Version      string
	Feature      string
	Model        string
	InputTokens  int64
	OutputTokens int64
}

// String formats the User-Agent. Every byte of App, Version, Feature and
// Model outside [0-9A-Za-z_.+-] is percent-encoded (%XX), which keeps '/',
// spaces, CR, LF and non-ASCII bytes out of the header. An empty Feature or
// Model is written as "-".
func (b BeaconUserAgent) String() string {
	var sb strings.Builder
	sb.WriteString(escapeBeaconField(b.App))
	sb.WriteString("_telemetry/")
	sb.WriteString(escapeBeaconField(b.Version))
	sb.WriteByte('/')
	sb.WriteString(escapeBeaconField(b.Feature))
	sb.WriteString("/model=")
	sb.WriteString(escapeBeaconField(b.Model))
	sb.WriteString("/input_tokens=")
	sb.WriteString(strconv.FormatInt(b.InputTokens, 10))
	sb.WriteString("/output_tokens=")
	sb.WriteString(strconv.FormatInt(b.OutputTokens, 10))
	return sb.String()
}

// ParseBeaconUserAgent parses a User-Agent written by [BeaconUserAgent.String]
// back into its fields, undoing the escaping.
func ParseBeaconUserAgent(userAgent string) (BeaconUserAgent, error) {
	parts := strings.Split(userAgent, "/")
	if len(parts) != 6 {
		return BeaconUserAgent{}, fmt.Errorf("usage: beacon User-Agent %q has %d '/'-separated fields: want 6 "+
			"(<app>_telemetry/<version>/<feature>/model=<m>/input_tokens=<n>/output_tokens=<n>)", userAgent, len(parts))
	}

	app, ok := strings.CutSuffix(parts[0], "_telemetry")
	if !ok {
		return BeaconUserAgent{}, fmt.Errorf("usage: beacon User-Agent %q: first field %q does not end in _telemetry", userAgent, parts[0])
	}

	var b BeaconUserAgent
	var err error
	fields := []struct {
		prefix string
		raw    string
		dst    *string
	}{
		{"", app, &b.App},
		{"", parts[1], &b.Version},
		{"", parts[2], &b.Feature},
		{"model=", parts[3], &b.Model},
	}
	for _, f := range fields {
		value, ok := strings.CutPrefix(f.raw, f.prefix)
		if !ok {
			return BeaconUserAgent{}, fmt.Errorf("usage: beacon User-Agent %q: field %q does not start with %q", userAgent, f.raw, f.prefix)
		}
		if *f.dst, err = unescapeBeaconField(value); err != nil {
			return BeaconUserAgent{}, fmt.Errorf("usage: beacon User-Agent %q: %w", userAgent, err)
		}
	}

	if b.InputTokens, err = parseBeaconCount(parts[4], "input_tokens="); err != nil {
		return BeaconUserAgent{}, fmt.Errorf("usage: beacon User-Agent %q: %w", userAgent, err)
	}
	if b.OutputTokens, err = parseBeaconCount(parts[5], "output_tokens="); err != nil {
		return BeaconUserAgent{}, fmt.Errorf("usage: beacon User-Agent %q: %w", userAgent, err)
	}
	return b, nil
}

func parseBeaconCount(field, prefix string) (int64, error) {
	digits, ok := strings.CutPrefix(field, prefix)
	if !ok {
		return 0, fmt.Errorf("field %q does not start with %q", field, prefix)
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("field %q is not an integer count", field)
	}
	return n, nil
}

// isBeaconSafe reports whether c is written as itself: one of the characters
// [0-9A-Za-z_.+-] that databricks-sdk-go (v0.100.0, useragent/patterns.go)
// allows in User-Agent names.
func isBeaconSafe(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' ||
		c == '_' || c == '.' || c == '+' || c == '-'
}

func escapeBeaconField(s string) string {
	switch s {
	case "":
		return beaconEmptyField
	case beaconEmptyField:
		return "%2D"
	}

	safe := true
	for i := 0; i < len(s); i++ {
		if !isBeaconSafe(s[i]) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}

	const hexDigits = "0123456789ABCDEF"
	var sb strings.Builder
	sb.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isBeaconSafe(c) {
			sb.WriteByte(c)
			continue
		}
		sb.WriteByte('%')
		sb.WriteByte(hexDigits[c>>4])
		sb.WriteByte(hexDigits[c&0x0f])
	}
	return sb.String()
}

func unescapeBeaconField(s string) (string, error) {
	if s == beaconEmptyField {
		return "", nil
	}

	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%':
			if i+2 >= len(s) {
				return "", fmt.Errorf("field %q ends inside a %%XX escape", s)
			}
			v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				return "", fmt.Errorf("field %q has an invalid escape %q", s, s[i:i+3])
			}
			sb.WriteByte(byte(v))
			i += 2
		case isBeaconSafe(c):
			sb.WriteByte(c)
		default:
			return "", fmt.Errorf("field %q contains unescaped byte %q", s, c)
		}
	}
	return sb.String(), nil
}
