package transport

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// origin is a normalized "scheme://host:port" key: the scheme and host in
// lower case, a trailing dot removed from the host, and the scheme's
// default port written out, so "https://A.example" and
// "https://a.example:443/" give the same key.
type origin string

// parseOrigin parses an allowed origin such as "https://a.example:8443". It
// rejects values with a path, query, fragment or user information, because
// an origin names a server and nothing below it.
func parseOrigin(raw string) (origin, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", fmt.Errorf("transport: allowed origin %q is not a valid URL: %v", raw, err)
	}
	if u.Opaque != "" || u.Host == "" {
		return "", fmt.Errorf("transport: allowed origin %q has no host: use scheme://host[:port], such as https://a.example", raw)
	}
	if u.User != nil {
		return "", fmt.Errorf("transport: allowed origin %q contains user information: use scheme://host[:port] only", raw)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", fmt.Errorf("transport: allowed origin %q has a path, query or fragment: use scheme://host[:port] only", raw)
	}
	o, err := originOf(u.Scheme, u.Host)
	if err != nil {
		return "", fmt.Errorf("transport: allowed origin %q: %w", raw, err)
	}
	return o, nil
}

// originOf normalizes a scheme and a URL host ("host", "host:port" or
// "[v6]:port") into an origin. Only http and https have an origin that a
// bearer token may be sent to.
func originOf(scheme, hostport string) (origin, error) {
	scheme = strings.ToLower(scheme)
	var defaultPort string
	switch scheme {
	case "https":
		defaultPort = "443"
	case "http":
		defaultPort = "80"
	default:
		return "", fmt.Errorf("scheme %q is not http or https", scheme)
	}

	host, port := hostport, ""
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		host, port = h, p
	} else if strings.HasPrefix(hostport, "[") && strings.HasSuffix(hostport, "]") {
		host = hostport[1 : len(hostport)-1]
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "" {
		return "", fmt.Errorf("host %q is empty", hostport)
	}

	if port == "" {
		port = defaultPort
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("port %q is not a number from 1 to 65535", port)
	}
	return origin(scheme + "://" + net.JoinHostPort(host, strconv.Itoa(n))), nil
}
