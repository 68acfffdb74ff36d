package authctx

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// NormalizeHost returns the workspace URL in the form that the Databricks SDK
// v0.100.0 stores in Config.Host (config.Config.fixHostIfNeeded). It adds
// "https://" when the value has no scheme. It drops everything but the
// scheme, host and port, so a path, query, user information and trailing
// slash go. An empty host returns "". A value without a host name returns an
// error, which masks the user information of host as "xxxxx". Such a value
// includes "https://", which the SDK turns into "https://https:".
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
		return "", invalidHostError(host, err)
	}

	// A value such as "adb-123.azuredatabricks.net" parses as a path, so the
	// SDK retries it with a scheme. A value that has a scheme and still no
	// host, such as "https://", has no host name, which the retry would hide
	// by reading "https:" as the host.
	if parsed.Host == "" && !strings.Contains(host, "://") {
		parsed, err = url.Parse("https://" + host)
		if err != nil {
			return "", invalidHostError(host, err)
		}
	}
	if parsed.Hostname() == "" {
		return "", fmt.Errorf("invalid workspace host %q: no host name; use a URL such as https://adb-123.azuredatabricks.net", redactUserinfo(host))
	}

	normalized := &url.URL{Scheme: parsed.Scheme, Host: parsed.Host}
	return strings.TrimSuffix(normalized.String(), "/"), nil
}

// invalidHostError reports a host that url.Parse rejected. It quotes the host
// with its user information masked, and leaves out the *url.Error wrapper,
// whose message repeats the whole URL, password included. When host contains
// an '@', it leaves out the parser's message too: a password with a '/' ends
// the authority early, and the parser then quotes the password as a port.
func invalidHostError(host string, err error) error {
	if strings.Contains(host, "@") {
		return fmt.Errorf("invalid workspace host %q: it does not parse as a URL; percent-encode reserved characters in its user information, or leave the user information out", redactUserinfo(host))
	}

	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		err = urlErr.Err
	}
	return fmt.Errorf("invalid workspace host %q: %w; use a URL such as https://adb-123.azuredatabricks.net", redactUserinfo(host), err)
}

// redactUserinfo returns host with everything between the scheme and the last
// '@' replaced by "xxxxx", so "https://user:pass@h" becomes "https://xxxxx@h".
// It works on text that url.Parse rejects, so it cannot rely on the parsed
// authority. It stops at the query or fragment, and it masks a path up to an
// '@' too, which hides more than needed but never a password.
func redactUserinfo(host string) string {
	start := 0
	if i := strings.Index(host, "://"); i >= 0 {
		start = i + len("://")
	}
	end := len(host)
	if i := strings.IndexAny(host[start:], "?#"); i >= 0 {
		end = start + i
	}

	at := strings.LastIndex(host[start:end], "@")
	if at < 0 {
		return host
	}
	return host[:start] + "xxxxx" + host[start+at:]
}
