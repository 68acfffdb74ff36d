package authctx

import (
	"context"
	"log/slog"
	"net/http"
)

// The request headers that the Databricks Apps proxy sets.
const (
	HeaderForwardedAccessToken       = "X-Forwarded-Access-Token"
	HeaderForwardedEmail             = "X-Forwarded-Email"
	HeaderForwardedUser              = "X-Forwarded-User"
	HeaderForwardedPreferredUsername = "X-Forwarded-Preferred-Username"
	HeaderRequestID                  = "X-Request-Id"
)

// Middleware returns a handler that moves the signed-in user of a Databricks
// App request into the request context and then calls next.
//
// With [TrustForwardedHeaders], the X-Forwarded-Access-Token header becomes
// the context's [Credential] (Method [MethodOnBehalfOf], Host from
// [WithWorkspaceHost], Subject from [Identity.Subject]), and the e-mail, user,
// preferred user name and request id headers become its [Identity]. Without
// it, no header is read and the context carries no credential, even one an
// outer handler stored. [IdentityFromContext] returns why a request has no
// credential.
//
// The X-Forwarded-Access-Token header is always removed from the request
// passed to next, trusted or not, so a handler that logs or proxies request
// headers does not pass the token on. The token is then only in the context.
// Middleware also reads [WithLogger]. It logs rejected token headers at debug
// level, never their values. With a nil next, it responds to every request
// with status 500. The
// handler is safe for concurrent use.
func Middleware(next http.Handler, opts ...Option) http.Handler {
	m := &middleware{next: next, settings: newSettings(opts)}

	m.host, m.hostErr = normalizeHost(m.settings.workspaceHost)
	if m.hostErr != nil {
		m.settings.logger.Error("authctx: Middleware forwards no credentials because the workspace host is invalid", slogError(m.hostErr))
	}
	if next == nil {
		m.settings.logger.Error("authctx: Middleware was given a nil next handler, so it responds to every request with status 500; pass the handler to wrap")
	}
	return m
}

// middleware is the handler that [Middleware] returns.
type middleware struct {
	next     http.Handler
	settings settings
	host     string
	hostErr  error
}

func (m *middleware) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r = r.Clone(m.identityContext(r))
	r.Header.Del(HeaderForwardedAccessToken)

	if m.next == nil {
		http.Error(w, "authctx: Middleware has no next handler", http.StatusInternalServerError)
		return
	}
	m.next.ServeHTTP(w, r)
}

// identityContext returns the request's context with its identity, and with
// the forwarded credential or an empty one that hides any outer credential.
func (m *middleware) identityContext(r *http.Request) context.Context {
	ctx := r.Context()
	if !m.settings.trustForwardedHeaders {
		ctx = newIdentityReasonContext(ctx, Identity{}, ErrUntrusted)
		return NewContext(ctx, Credential{})
	}

	id := Identity{
		Email:             r.Header.Get(HeaderForwardedEmail),
		User:              r.Header.Get(HeaderForwardedUser),
		PreferredUsername: r.Header.Get(HeaderForwardedPreferredUsername),
		RequestID:         r.Header.Get(HeaderRequestID),
	}
	tokens := r.Header.Values(HeaderForwardedAccessToken)
	reason := tokenHeaderReason(tokens, m.hostErr)
	ctx = newIdentityReasonContext(ctx, id, reason)

	if reason != nil {
		m.settings.logger.LogAttrs(ctx, slog.LevelDebug, "authctx: request carries no forwarded credential",
			slog.String("request_id", id.RequestID), slogError(reason))
		return NewContext(ctx, Credential{})
	}
	return NewContext(ctx, Credential{Token: tokens[0], Method: MethodOnBehalfOf, Subject: id.Subject(), Host: m.host})
}

// tokenHeaderReason returns why the X-Forwarded-Access-Token values cannot be
// used as a credential, or nil.
func tokenHeaderReason(tokens []string, hostErr error) error {
	switch {
	case hostErr != nil:
		return ErrInvalidWorkspaceHost
	case len(tokens) == 0 || (len(tokens) == 1 && tokens[0] == ""):
		return ErrTokenHeaderMissing
	case len(tokens) > 1 || !isBearerToken(tokens[0]):
		return ErrTokenHeaderInvalid
	}
	return nil
}

// isBearerToken reports whether token matches the b64token syntax of
// RFC 6750, section 2.1: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" /
// "/" ) *"=".
func isBearerToken(token string) bool {
	i := 0
	for i < len(token) {
		c := token[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/') {
			break
		}
		i++
	}
	if i == 0 {
		return false
	}
	for i < len(token) && token[i] == '=' {
		i++
	}
	return i == len(token)
}
