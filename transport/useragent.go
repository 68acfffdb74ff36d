package transport

import (
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/httpmeter/httpmeter/product"
)

// MergeRule selects how [UserAgentTransport] combines the product token with a
// User-Agent the request already has.
type MergeRule int

const (
	// MergeAppend adds the product token after the existing User-Agent,
	// unless the existing value already contains it. It is the default.
	MergeAppend MergeRule = iota

	// MergePrepend adds the product token before the existing User-Agent,
	// unless the existing value already contains it.
	MergePrepend

	// MergeReplace sends the product token alone, dropping the existing
	// User-Agent.
	MergeReplace
)

// String returns the rule's name, such as "append".
func (r MergeRule) String() string {
	switch r {
	case MergeAppend:
		return "append"
	case MergePrepend:
		return "prepend"
	case MergeReplace:
		return "replace"
	default:
		return "MergeRule(" + strconv.Itoa(int(r)) + ")"
	}
}

// WithMergeRule returns an option that sets how the product token is
// combined with an existing User-Agent. A rule outside the defined constants
// falls back to MergeAppend.
func WithMergeRule(rule MergeRule) UserAgentOption {
	return mergeRuleOption{rule: rule}
}

type mergeRuleOption struct{ rule MergeRule }

func (o mergeRuleOption) applyUserAgent(c *userAgentConfig) {
	switch o.rule {
	case MergeAppend, MergePrepend, MergeReplace:
		c.rule = o.rule
	default:
		c.rule = MergeAppend
	}
}

type userAgentConfig struct {
	rule   MergeRule
	logger *slog.Logger
}

// UserAgentTransport sets the User-Agent product token of each request to
// the product in the request's context (see product.NewContext), or to the
// application's own "<app>/<version>" when the context has none. It merges
// the token into a User-Agent the request already carries, such as the
// Databricks SDK's, by its [MergeRule]. Go's default "Go-http-client/1.1" is
// not an existing User-Agent: Go adds it only when the header is absent, so
// a request carrying exactly that value gets the product token alone.
//
// The caller's request is never modified: a clone carries the new header,
// and a request whose User-Agent already contains the token is passed on
// as it is, so a redirect or retry that re-enters does not add it twice.
// The response and its body are passed back untouched. A
// UserAgentTransport is safe for concurrent use.
type UserAgentTransport struct {
	next     http.RoundTripper
	appToken string // "<app>/<version>", or "" for the zero App
	rule     MergeRule
	logger   *slog.Logger
}

// UserAgent returns a UserAgentTransport that sends requests through next,
// or through http.DefaultTransport when next is nil. A zero app is allowed:
// requests without a product in their context then keep their User-Agent.
func UserAgent(next http.RoundTripper, app product.App, opts ...UserAgentOption) *UserAgentTransport {
	cfg := userAgentConfig{rule: MergeAppend}
	for _, opt := range opts {
		if opt != nil {
			opt.applyUserAgent(&cfg)
		}
	}
	return &UserAgentTransport{next: next, appToken: app.UserAgent(), rule: cfg.rule, logger: discardLogger(cfg.logger)}
}

// RoundTrip sends req with the merged User-Agent and returns the next
// RoundTripper's response, or its error.
func (t *UserAgentTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := validateRequest(req); err != nil {
		return nil, err
	}
	base := resolveBase(t.next)

	token := t.appToken
	if p, ok := product.FromContext(req.Context()); ok {
		token = p.UserAgent()
	}
	if token == "" {
		t.logger.DebugContext(req.Context(), "transport: no product for the User-Agent, request sent unchanged")
		return roundTripNext(base, req)
	}

	// A User-Agent sent as several header lines is joined into one, because
	// the field is a single list of products (RFC 9110, section 10.1.5).
	values := headerValues(req.Header, "User-Agent")
	existing := strings.Join(values, " ")
	merged := mergeUserAgent(existing, token, t.rule)
	if len(values) == 1 && merged == values[0] {
		return roundTripNext(base, req)
	}

	clone := cloneWithHeader(req, req.Context())
	setHeader(clone.Header, "User-Agent", merged)
	return roundTripNext(base, clone)
}

// CloseIdleConnections closes the idle connections of the next RoundTripper
// when it supports that.
func (t *UserAgentTransport) CloseIdleConnections() {
	closeIdleConnections(resolveBase(t.next))
}

// mergeUserAgent combines existing with the product token by rule.
func mergeUserAgent(existing, token string, rule MergeRule) string {
	existing = strings.TrimSpace(existing)
	if existing == "" || isGoDefaultUserAgent(existing) || rule == MergeReplace {
		return token
	}
	if containsProductToken(existing, token) {
		return existing
	}
	if rule == MergePrepend {
		return token + " " + existing
	}
	return existing + " " + token
}

// containsProductToken reports whether the space-separated User-Agent ua has
// token as one of its products. A token inside a comment, such as
// "(acme/1.0)", does not count.
func containsProductToken(ua, token string) bool {
	for field := range strings.FieldsSeq(ua) {
		if field == token {
			return true
		}
	}
	return false
}

// isGoDefaultUserAgent reports whether ua is the value net/http sends when a
// request has no User-Agent, such as "Go-http-client/1.1".
func isGoDefaultUserAgent(ua string) bool {
	return ua == "Go-http-client/1.1" || ua == "Go-http-client/2.0"
}
