package transport

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// origin is a normalized scheme, host and port: the scheme and host in lower
// case, a trailing dot removed from the host, and the scheme's default port
// filled in, so "https://A.example" and "https://a.example:443/" are equal.
// It is comparable, so it serves as a map key.
type origin struct {
	scheme string
	host   string
	port   int
}

// String returns the origin as "scheme://host:port".
func (o origin) String() string {
	return o.scheme + "://" + net.JoinHostPort(o.host, strconv.Itoa(o.port))
}

// parseOrigin parses an allowed origin such as "https://a.example:8443". It
// rejects values with a path, query, fragment or user information, because
// an origin names a server and nothing below it. Its errors show the value
// with any user information replaced, so they never repeat a password.
func parseOrigin(raw string) (origin, error) {
	redacted := redactUserInfo(raw)
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		// A *url.Error repeats the whole value, so only its cause is redacted.
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err
		}
		return origin{}, fmt.Errorf("transport: allowed origin %q is not a valid URL: %v", redacted, err)
	}
	if u.User != nil {
		return origin{}, fmt.Errorf("transport: allowed origin %q contains user information: use scheme://host[:port] only", redacted)
	}
	if u.Opaque != "" || u.Host == "" {
		return origin{}, fmt.Errorf("transport: allowed origin %q has no host: use scheme://host[:port], such as https://a.example", redacted)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return origin{}, fmt.Errorf("transport: allowed origin %q has a path, query or fragment: use scheme://host[:port] only", redacted)
	}
	o, err := originOf(u.Scheme, u.Host)
	if err != nil {
		return origin{}, fmt.Errorf("transport: allowed origin %q: %w", redacted, err)
	}
	if strings.Contains(o.host, "*") {
		return origin{}, fmt.Errorf("transport: allowed origin %q contains a wildcard, which is not supported: list each origin, such as https://adb-123.azuredatabricks.net", redacted)
	}
	if !validHost(o.host) {
		return origin{}, fmt.Errorf("transport: allowed origin %q has an invalid host name: use letters, digits, '-' and '.', or an IP address", redacted)
	}
	return o, nil
}

// validHost reports whether host is an IP address or a name made of
// letters, digits, '-', '_' and '.'. No request can go to another host, so
// an origin with one would never match and its requests would silently go
// without a token.
func validHost(host string) bool {
	if net.ParseIP(host) != nil {
		return true
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return host != ""
}

// redactUserInfo returns raw with the user information before the host,
// such as "user:password@", replaced by "xxxxx@".
func redactUserInfo(raw string) string {
	prefix, rest := "", raw
	if i := strings.Index(raw, "://"); i >= 0 {
		prefix, rest = raw[:i+3], raw[i+3:]
	}
	authorityEnd := len(rest)
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authorityEnd = i
	}
	at := strings.LastIndexByte(rest[:authorityEnd], '@')
	if at < 0 {
		return raw
	}
	return prefix + "xxxxx" + rest[at:]
}

// originOf normalizes a scheme and a URL host ("host", "host:port" or
// "[v6]:port") into an origin. Only http and https have an origin that a
// bearer token may be sent to. It allocates only for a host with upper-case
// letters and on errors, because it runs on every request.
func originOf(scheme, hostport string) (origin, error) {
	var defaultPort int
	switch {
	case strings.EqualFold(scheme, "https"):
		scheme, defaultPort = "https", 443
	case strings.EqualFold(scheme, "http"):
		scheme, defaultPort = "http", 80
	default:
		return origin{}, fmt.Errorf("scheme %q is not http or https", scheme)
	}

	host, port, ok := splitHostPort(hostport)
	if !ok {
		return origin{}, fmt.Errorf("host %q is not host[:port] or [IPv6][:port]", hostport)
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "" {
		return origin{}, fmt.Errorf("host %q is empty", hostport)
	}

	n := defaultPort
	if port != "" {
		var err error
		n, err = strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return origin{}, fmt.Errorf("port %q is not a number from 1 to 65535", port)
		}
	}
	return origin{scheme: scheme, host: host, port: n}, nil
}

// splitHostPort splits "host", "host:port", "[v6]" or "[v6]:port" without
// allocating. It reports false for an unbracketed IPv6 address and for
// text after a closing bracket that is not a port.
func splitHostPort(hostport string) (host, port string, ok bool) {
	if strings.HasPrefix(hostport, "[") {
		end := strings.IndexByte(hostport, ']')
		if end < 0 {
			return "", "", false
		}
		host, rest := hostport[1:end], hostport[end+1:]
		if rest == "" {
			return host, "", true
		}
		if rest[0] != ':' {
			return "", "", false
		}
		return host, rest[1:], true
	}

	switch strings.Count(hostport, ":") {
	case 0:
		return hostport, "", true
	case 1:
		i := strings.IndexByte(hostport, ':')
		return hostport[:i], hostport[i+1:], true
	default:
		return "", "", false
	}
}
