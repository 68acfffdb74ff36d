package authctx

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"time"
)

// Option configures a provider or [Middleware]. Each option's documentation
// names the constructors that read it; the others ignore it.
type Option func(*settings)

// settings holds every option value. Constructors copy it, so a provider never
// shares settings with another one.
type settings struct {
	logger *slog.Logger
	now    func() time.Time

	lookupEnv func(string) (string, bool)

	ttl           time.Duration
	negativeTTL   time.Duration
	lookupTimeout time.Duration
	workspaceKey  func(context.Context) string
	groupKey      func(context.Context) string

	httpClient     *http.Client
	tokenURL       string
	scopes         []string
	refreshLeeway  time.Duration
	requestTimeout time.Duration
	requestContext func(context.Context) context.Context

	trustForwardedHeaders bool
	workspaceHost         string
}

// Default option values. They are constants, so no caller can change them for
// another one.
const (
	DefaultStoredTokenTTL      = 5 * time.Minute
	DefaultNegativeTTL         = 5 * time.Second
	DefaultLookupTimeout       = 10 * time.Second
	DefaultRefreshLeeway       = 60 * time.Second
	DefaultTokenRequestTimeout = 30 * time.Second
)

func newSettings(opts []Option) settings {
	s := settings{
		logger:         slog.New(slog.DiscardHandler),
		now:            time.Now,
		lookupEnv:      os.LookupEnv,
		ttl:            DefaultStoredTokenTTL,
		negativeTTL:    DefaultNegativeTTL,
		lookupTimeout:  DefaultLookupTimeout,
		workspaceKey:   func(context.Context) string { return "" },
		groupKey:       func(context.Context) string { return "" },
		scopes:         []string{"all-apis"},
		refreshLeeway:  DefaultRefreshLeeway,
		requestTimeout: DefaultTokenRequestTimeout,
		requestContext: func(ctx context.Context) context.Context { return ctx },
	}
	for _, opt := range opts {
		if opt != nil {
			opt(&s)
		}
	}
	return s
}

// WithLogger sets the logger for lookups, refreshes, chain decisions and
// rejected headers. Tokens and secrets are never logged. A nil logger keeps
// the default, which discards everything. Read by [NewStoredToken],
// [NewOAuthM2M], [ChainWith] and [Middleware].
func WithLogger(logger *slog.Logger) Option {
	return func(s *settings) {
		if logger != nil {
			s.logger = logger
		}
	}
}

// WithClock sets the function that returns the current time, used for cache
// lifetimes and token expiry. A nil function keeps [time.Now]. Read by
// [NewStoredToken], [NewOAuthM2M] and [ChainWith].
func WithClock(now func() time.Time) Option {
	return func(s *settings) {
		if now != nil {
			s.now = now
		}
	}
}

// WithLookupEnv sets the function that reads environment variables, in the
// form of [os.LookupEnv] (the default). A nil function keeps the default. Read
// by [Env].
func WithLookupEnv(lookup func(key string) (string, bool)) Option {
	return func(s *settings) {
		if lookup != nil {
			s.lookupEnv = lookup
		}
	}
}

// WithTTL sets how long a stored token found by a lookup is reused before the
// next lookup (default [DefaultStoredTokenTTL]). A token that expires sooner is
// reused only until its expiry. Zero turns caching off. Read by
// [NewStoredToken].
func WithTTL(ttl time.Duration) Option {
	return func(s *settings) { s.ttl = ttl }
}

// WithNegativeTTL sets how long a failed stored-token lookup is remembered
// before it is tried again (default [DefaultNegativeTTL]). Cancelled and
// timed-out lookups are never remembered. Zero turns negative caching off.
// Read by [NewStoredToken], and by [NewOAuthM2M] as the wait before retrying
// a failed refresh while the old token is still valid.
func WithNegativeTTL(ttl time.Duration) Option {
	return func(s *settings) { s.negativeTTL = ttl }
}

// WithLookupTimeout sets the deadline of one stored-token lookup (default
// [DefaultLookupTimeout]). Read by [NewStoredToken].
func WithLookupTimeout(timeout time.Duration) Option {
	return func(s *settings) { s.lookupTimeout = timeout }
}

// WithWorkspaceKey sets the function that returns the workspace a stored
// token is looked up for. The default returns "", one token per application.
// A nil function keeps the default. Read by [NewStoredToken].
func WithWorkspaceKey(key func(context.Context) string) Option {
	return func(s *settings) {
		if key != nil {
			s.workspaceKey = key
		}
	}
}

// WithGroupKey sets the function that returns the group, such as a team or
// tenant, a stored token is looked up for. The default returns "". A nil
// function keeps the default. Read by [NewStoredToken].
func WithGroupKey(key func(context.Context) string) Option {
	return func(s *settings) {
		if key != nil {
			s.groupKey = key
		}
	}
}

// WithHTTPClient sets the client that sends OAuth token requests. The default
// is a new [http.Client] using [http.DefaultTransport]. A nil client keeps the
// default. Read by [NewOAuthM2M].
func WithHTTPClient(client *http.Client) Option {
	return func(s *settings) {
		if client != nil {
			s.httpClient = client
		}
	}
}

// WithTokenURL sets the OAuth token endpoint in place of "{host}/oidc/v1/token".
// Read by [NewOAuthM2M].
func WithTokenURL(tokenURL string) Option {
	return func(s *settings) { s.tokenURL = tokenURL }
}

// WithScopes sets the OAuth scopes requested (default "all-apis", as in the
// Databricks SDK). Read by [NewOAuthM2M].
func WithScopes(scopes ...string) Option {
	return func(s *settings) { s.scopes = append([]string(nil), scopes...) }
}

// WithRefreshLeeway sets how long before its expiry an OAuth token is
// replaced (default [DefaultRefreshLeeway]). Read by [NewOAuthM2M].
func WithRefreshLeeway(leeway time.Duration) Option {
	return func(s *settings) { s.refreshLeeway = leeway }
}

// WithTokenRequestTimeout sets the deadline of one OAuth token request
// (default [DefaultTokenRequestTimeout]). Read by [NewOAuthM2M].
func WithTokenRequestTimeout(timeout time.Duration) Option {
	return func(s *settings) { s.requestTimeout = timeout }
}

// WithRequestContext sets a function applied to the context of every OAuth
// token request before it is sent. The httpmeter root passes
// usage.WithoutMetering here, so token requests that go through a metered
// client are not metered; this package cannot import usage itself. A nil
// function keeps the context unchanged. Read by [NewOAuthM2M].
func WithRequestContext(wrap func(context.Context) context.Context) Option {
	return func(s *settings) {
		if wrap != nil {
			s.requestContext = wrap
		}
	}
}

// TrustForwardedHeaders makes [Middleware] read the X-Forwarded-* identity
// headers. Set it only when every request reaches the handler through the
// Databricks Apps proxy, which sets these headers itself. Without the proxy,
// any client could send a token or e-mail address of its choosing. Read by
// [Middleware].
func TrustForwardedHeaders() Option {
	return func(s *settings) { s.trustForwardedHeaders = true }
}

// WithWorkspaceHost sets the URL of the workspace the app runs in, such as
// "https://adb-123.azuredatabricks.net". It becomes the Host of forwarded
// credentials and is normalized as [NormalizeHost] does. Read by [Middleware].
func WithWorkspaceHost(host string) Option {
	return func(s *settings) { s.workspaceHost = host }
}

// log returns the logger, or one that discards every record when the
// settings are the zero value of a provider built without its constructor.
func (s *settings) log() *slog.Logger {
	if s.logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.logger
}

// clock returns the current time from now, or from time.Now when the
// settings are the zero value.
func (s *settings) clock() time.Time {
	if s.now == nil {
		return time.Now()
	}
	return s.now()
}

// lookup reads an environment variable through lookupEnv, or through
// os.LookupEnv when the settings are the zero value.
func (s *settings) lookup(key string) (string, bool) {
	if s.lookupEnv == nil {
		return os.LookupEnv(key)
	}
	return s.lookupEnv(key)
}
