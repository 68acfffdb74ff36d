package authctx

import (
	"fmt"
	"net/url"
	"strings"
)

// NormalizeHost returns the workspace URL in the form that the Databricks SDK
// v0.100.0 stores in Config.Host (config.Config.fixHostIfNeeded). It adds
// "https://" when the value has no scheme. It drops everything but the
// scheme, host and port, so a path, query, user information and trailing
// slash go. An empty host returns "". A value without a host name returns an
// error.
func NormalizeHost(host string) (string, error) {
	normalized, err := normalizeHost(host)
	if err != nil {
		return "", fmt.Errorf("authctx: %w", err)
	}
	return normalized, nil
}

// normalizeHost is [NormalizeHost] with errors that callers prefix with the
// setting the value came from.
func normalizeHost(host string) (string, error) {
	if host == "" {
		return "", nil
	}

	parsed, err := url.Parse(host)
	if err != nil {
		return "", fmt.Errorf("invalid workspace host %q: %w; use a URL such as https://adb-123.azuredatabricks.net", host, err)
	}

	// A value such as "adb-123.azuredatabricks.net" parses as a path, so the
	// SDK retries it with a scheme.
	if parsed.Host == "" {
		parsed, err = url.Parse("https://" + host)
		if err != nil {
			return "", fmt.Errorf("invalid workspace host %q: %w; use a URL such as https://adb-123.azuredatabricks.net", host, err)
		}
	}
	if parsed.Hostname() == "" {
		return "", fmt.Errorf("invalid workspace host %q: no host name; use a URL such as https://adb-123.azuredatabricks.net", host)
	}

	normalized := &url.URL{Scheme: parsed.Scheme, Host: parsed.Host}
	return strings.TrimSuffix(normalized.String(), "/"), nil
}
