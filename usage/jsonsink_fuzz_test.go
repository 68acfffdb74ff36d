package usage

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzJSONSinkEndpointUserInfo builds endpoints that carry a user name and a
// password, escaped as url.URL does and also pasted in raw, and checks that
// neither shows in NewJSONSink's error or in the URL the sink logs. Secrets
// shorter than 6 bytes are not checked, because they may occur in the rest
// of the message by chance.
func FuzzJSONSinkEndpointUserInfo(f *testing.F) {
	f.Add("collector-token", "", "127.0.0.1:8080", "/v1/usage")
	f.Add("user", "hunter2/secret", "127.0.0.1:8080", "/v1/usage?key=1")
	f.Add("secret?user", "p@ss word", "[::1]:9", "")
	f.Add("secret/user", "pa%zz", "collector", "/x")

	f.Fuzz(func(t *testing.T, user, password, host, path string) {
		escaped := "http://" + url.UserPassword(user, password).String() + "@" + host + path
		raw := "http://" + user + ":" + password + "@" + host + path
		withoutScheme := user + ":" + password + "@" + host + path

		for _, endpoint := range []string{escaped, raw, withoutScheme} {
			sink, err := NewJSONSink(endpoint)
			output := ""
			if err != nil {
				output = err.Error()
			} else {
				output = sink.redacted
			}

			for _, secret := range []string{user, password} {
				if len(secret) < 6 || strings.Contains(host+path, secret) || strings.Contains("usage: JSON sink URL must be an absolute http or https URL"+redactedUserInfo, secret) {
					continue
				}
				if strings.Contains(output, secret) {
					t.Fatalf("NewJSONSink(%q) shows %q in %q", endpoint, secret, output)
				}
			}
		}
	})
}
