package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/httpmeter/httpmeter/authctx"
)

type bearerConfig struct {
	origins   []string
	provider  authctx.Provider
	replace   bool
	matchHost bool
	logger    *slog.Logger
}

type allowOriginsOption struct{ origins []string }

func (o allowOriginsOption) applyBearer(c *bearerConfig) {
	c.origins = append(c.origins, o.origins...)
}

// AllowOrigins returns an option that lets a BearerTransport send tokens to
// the given origins, each "scheme://host[:port]" such as
// "https://a.example:8443". Hosts compare case-insensitively and an omitted
// port is the scheme's default, so "https://A.example" and
// "https://a.example:443" are the same origin. The option may be given more
// than once; the origins add up.
func AllowOrigins(origins ...string) BearerOption {
	return allowOriginsOption{origins: append([]string(nil), origins...)}
}

type providerOption struct{ provider authctx.Provider }

func (o providerOption) applyBearer(c *bearerConfig) { c.provider = o.provider }

// WithProvider returns an option that makes a BearerTransport ask provider
// for a credential when the request context carries none. The provider runs
// on the request path, once per request without a credential in its
// context. A nil provider, the default, means only the context is used.
func WithProvider(provider authctx.Provider) BearerOption {
	return providerOption{provider: provider}
}

type replaceAuthorizationOption struct{}

func (replaceAuthorizationOption) applyBearer(c *bearerConfig) { c.replace = true }

type matchCredentialHostOption struct{}

func (matchCredentialHostOption) applyBearer(c *bearerConfig) { c.matchHost = true }

// MatchCredentialHost returns an option that makes a BearerTransport send a
// credential only to the origin of its Host, the workspace the token
// belongs to. When several workspaces are allowed, it keeps a token of one
// from reaching another. A request whose credential has another Host, or an
// invalid one, fails with an error and is not sent. A credential with an
// empty Host may go to any allowed origin.
func MatchCredentialHost() BearerOption {
	return matchCredentialHostOption{}
}

// ReplaceAuthorization returns an option that makes a BearerTransport
// overwrite an Authorization header the caller already set on a request to
// an allowed origin. By default such a header is left as it is.
func ReplaceAuthorization() BearerOption {
	return replaceAuthorizationOption{}
}

// BearerTransport sets "Authorization: Bearer <token>" on requests to its
// allowed origins. The credential comes from the request context (see
// authctx.NewContext), else from the optional authctx.Provider. There is no
// fallback to any global or shared token. When neither has a credential,
// RoundTrip fails closed with an error wrapping authctx.ErrNoCredential and
// the request is not sent. A credential whose Expiry has passed is rejected
// the same way, since the server would refuse it.
//
// The credential used travels down in the context of the request handed to
// the next RoundTripper, so a [UsageTransport] below records exactly it.
// When the caller set its own Authorization and it is kept, the context
// passed down carries no credential, because the context's credential did
// not authenticate the request.
//
// Requests to other origins are passed on without a token, and with a
// context that hides the credential, since it did not authenticate them. Each redirect hop of http.Client re-enters RoundTrip,
// so the origin check also keeps a token from following a redirect to
// another origin. Requests under the path /oidc/ are passed on untouched,
// because they are OAuth token requests that the Databricks SDK sends
// through the transport to refresh its own token.
//
// The caller's request is never modified: a clone carries the header and
// shares the body and GetBody, so http.Client can replay the body on a 307
// or 308 redirect. The request body is closed when RoundTrip fails before
// sending. A BearerTransport is safe for concurrent use.
type BearerTransport struct {
	next      http.RoundTripper
	allowed   map[origin]struct{}
	provider  authctx.Provider
	replace   bool
	matchHost bool
	logger    *slog.Logger
}

// Bearer returns a BearerTransport that sends requests through next, or
// through http.DefaultTransport when next is nil. It returns an error when
// no origin is allowed, since such a transport would never send a token, or
// when an allowed origin is invalid.
func Bearer(next http.RoundTripper, opts ...BearerOption) (*BearerTransport, error) {
	var cfg bearerConfig
	for _, opt := range opts {
		if opt != nil {
			opt.applyBearer(&cfg)
		}
	}

	if len(cfg.origins) == 0 {
		return nil, errors.New(`transport: Bearer has no allowed origin, so it would never send a token: pass transport.AllowOrigins("https://host[:port]")`)
	}
	allowed := make(map[origin]struct{}, len(cfg.origins))
	for _, raw := range cfg.origins {
		o, err := parseOrigin(raw)
		if err != nil {
			return nil, err
		}
		allowed[o] = struct{}{}
	}

	return &BearerTransport{
		next:      next,
		allowed:   allowed,
		provider:  cfg.provider,
		replace:   cfg.replace,
		matchHost: cfg.matchHost,
		logger:    discardLogger(cfg.logger),
	}, nil
}

// RoundTrip authenticates req when it goes to an allowed origin and returns
// the next RoundTripper's response, or an error when no credential is found.
func (t *BearerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := validateRequest(req); err != nil {
		return nil, err
	}
	base := resolveBase(t.next)
	ctx := req.Context()

	if isTokenEndpoint(req) {
		t.logger.DebugContext(ctx, "transport: OAuth token request sent without a bearer token", "path", req.URL.Path)
		return roundTripNext(base, req)
	}
	target, ok := t.allowedOrigin(req)
	if !ok {
		t.logger.DebugContext(ctx, "transport: origin not allowed, request sent without a bearer token", "host", req.URL.Host)
		return roundTripNext(base, withoutCredential(req))
	}

	if hasValue(headerValues(req.Header, "Authorization")) && !t.replace {
		return roundTripNext(base, withoutCredential(req))
	}

	cred, err := t.credential(ctx, target)
	if err != nil {
		closeRequestBody(req)
		return nil, err
	}

	clone := cloneWithHeader(req, authctx.NewContext(ctx, cred))
	setHeader(clone.Header, "Authorization", "Bearer "+cred.Token)
	return roundTripNext(base, clone)
}

// CloseIdleConnections closes the idle connections of the next RoundTripper
// when it supports that.
func (t *BearerTransport) CloseIdleConnections() {
	closeIdleConnections(resolveBase(t.next))
}

// allowedOrigin returns the origin of req and whether a token may be sent
// there. A Host header that names another server than the URL (a virtual
// host behind the same address) must be allowed too, because that server is
// the one that reads the token.
func (t *BearerTransport) allowedOrigin(req *http.Request) (origin, bool) {
	target, err := originOf(req.URL.Scheme, req.URL.Host)
	if err != nil {
		return origin{}, false
	}
	if _, ok := t.allowed[target]; !ok {
		return origin{}, false
	}
	if req.Host != "" && req.Host != req.URL.Host {
		virtual, err := originOf(req.URL.Scheme, req.Host)
		if err != nil {
			return origin{}, false
		}
		if _, ok := t.allowed[virtual]; !ok {
			return origin{}, false
		}
	}
	return target, true
}

// credential returns the credential for a request to target: the one in
// ctx, else the provider's. Its errors never contain a token.
func (t *BearerTransport) credential(ctx context.Context, target origin) (authctx.Credential, error) {
	cred, ok := authctx.FromContext(ctx)
	if !ok {
		if t.provider == nil {
			return authctx.Credential{}, fmt.Errorf("transport: no credential for a request to %s: %w: store one in the request context with authctx.NewContext, or configure a provider (httpmeter.Config.Provider or transport.WithProvider)", target, authctx.ErrNoCredential)
		}

		var (
			name string
			err  error
		)
		cred, name, err = providerCredential(ctx, t.provider)
		if err != nil {
			return authctx.Credential{}, fmt.Errorf("transport: no credential for a request to %s: provider %q failed: %w", target, name, err)
		}
		if cred.IsZero() {
			return authctx.Credential{}, fmt.Errorf("transport: no credential for a request to %s: provider %q returned a credential without a token: %w", target, name, authctx.ErrNoCredential)
		}
	}

	if t.matchHost && cred.Host != "" {
		if err := checkCredentialHost(cred, target); err != nil {
			return authctx.Credential{}, err
		}
	}
	if cred.Expired(time.Now()) {
		return authctx.Credential{}, fmt.Errorf("transport: the credential for subject %q expired at %s: refresh it before sending, or let an authctx.Provider do so", cred.Subject, cred.Expiry.UTC().Format(time.RFC3339))
	}
	if i := invalidTokenByte(cred.Token); i >= 0 {
		return authctx.Credential{}, fmt.Errorf("transport: the credential for subject %q has a token whose byte %d is not visible ASCII, which an Authorization header cannot carry: fix the token's source", cred.Subject, i)
	}
	return cred, nil
}

// providerCredential returns the credential of p and p's name. A panic in p,
// such as a method call on a typed nil provider, is returned as an error, so
// a broken provider fails the request instead of the process. The name is
// p's type when Name panics.
func providerCredential(ctx context.Context, p authctx.Provider) (cred authctx.Credential, name string, err error) {
	defer func() {
		if r := recover(); r != nil {
			if name == "" {
				name = fmt.Sprintf("%T", p)
			}
			cred, err = authctx.Credential{}, fmt.Errorf("the provider panicked: %v", r)
		}
	}()

	name = p.Name()
	cred, err = p.Credential(ctx)
	return cred, name, err
}

// hasValue reports whether any of values is not empty.
func hasValue(values []string) bool {
	for _, v := range values {
		if v != "" {
			return true
		}
	}
	return false
}

// checkCredentialHost returns an error unless the Host of cred is target's
// origin. The error names the subject and both origins, never the token.
func checkCredentialHost(cred authctx.Credential, target origin) error {
	// NormalizeHost reads Host as the Databricks SDK reads Config.Host, so
	// "adb-123.azuredatabricks.net" without a scheme means https.
	normalized, err := authctx.NormalizeHost(cred.Host)
	if err != nil {
		return fmt.Errorf("transport: the credential for subject %q has a Host that is not a valid URL, so it is not sent to %s: set Host to the workspace URL, such as https://adb-123.azuredatabricks.net", cred.Subject, target)
	}
	u, err := url.Parse(normalized)
	if err != nil {
		return fmt.Errorf("transport: the credential for subject %q has a Host that is not a valid URL, so it is not sent to %s: set Host to the workspace URL, such as https://adb-123.azuredatabricks.net", cred.Subject, target)
	}
	home, err := originOf(u.Scheme, u.Host)
	if err != nil {
		return fmt.Errorf("transport: the credential for subject %q has Host %q, which is not an http or https origin, so it is not sent to %s: set Host to the workspace URL", cred.Subject, redactUserInfo(cred.Host), target)
	}
	if home != target {
		return fmt.Errorf("transport: the credential for subject %q belongs to %s and is not sent to %s: store the credential of that workspace in the request context", cred.Subject, home, target)
	}
	return nil
}

// withoutCredential returns req, or a shallow copy of it whose context hides
// the credential, when the context has one. A request that the context's
// credential did not authenticate must not pass it down to a Usage layer.
func withoutCredential(req *http.Request) *http.Request {
	ctx := req.Context()
	if _, has := authctx.FromContext(ctx); !has {
		return req
	}
	return req.WithContext(authctx.NewContext(ctx, authctx.Credential{}))
}

// invalidTokenByte returns the index of the first byte of token that is not
// visible ASCII, or -1. Such a byte would split or corrupt the header.
func invalidTokenByte(token string) int {
	for i := 0; i < len(token); i++ {
		if token[i] < 0x21 || token[i] > 0x7e {
			return i
		}
	}
	return -1
}

// isTokenEndpoint reports whether req goes to an OAuth token endpoint of a
// Databricks workspace or account, whose paths start with /oidc/.
func isTokenEndpoint(req *http.Request) bool {
	return req.URL.Path == "/oidc" || strings.HasPrefix(req.URL.Path, "/oidc/")
}
