package authctx

import (
	"context"
	"errors"
)

// Identity is the signed-in user of a Databricks App request, as the Apps
// proxy forwards it in X-Forwarded-* headers. It holds no token; the user's
// token travels as the context's [Credential].
type Identity struct {
	// Email is the X-Forwarded-Email header.
	Email string

	// User is the X-Forwarded-User header, the user's id.
	User string

	// PreferredUsername is the X-Forwarded-Preferred-Username header.
	PreferredUsername string

	// RequestID is the X-Request-Id header.
	RequestID string
}

// Subject returns the best name for the user: the e-mail address, else the
// preferred user name, else the user id.
func (id Identity) Subject() string {
	switch {
	case id.Email != "":
		return id.Email
	case id.PreferredUsername != "":
		return id.PreferredUsername
	default:
		return id.User
	}
}

// Reasons that [IdentityFromContext] returns when a request has no forwarded
// identity or credential. Test them with errors.Is.
var (
	// ErrNoIdentity means the context never passed through [Middleware].
	ErrNoIdentity = errors.New("authctx: no identity in context; wrap the handler with authctx.Middleware")

	// ErrUntrusted means the middleware ignored the forwarded headers because
	// it was not given [TrustForwardedHeaders].
	ErrUntrusted = errors.New("authctx: forwarded identity headers are not trusted; pass authctx.TrustForwardedHeaders() to Middleware when the app runs behind the Databricks Apps proxy")

	// ErrTokenHeaderMissing means the request had no X-Forwarded-Access-Token,
	// for example because on-behalf-of authorization is off for the app.
	ErrTokenHeaderMissing = errors.New("authctx: X-Forwarded-Access-Token header is missing; turn on on-behalf-of-user authorization for the app and send requests through the Databricks Apps proxy")

	// ErrTokenHeaderInvalid means the request had more than one
	// X-Forwarded-Access-Token value, or a value that is not a bearer token
	// (RFC 6750 b64token characters).
	ErrTokenHeaderInvalid = errors.New("authctx: X-Forwarded-Access-Token header is invalid: expected one bearer token")

	// ErrInvalidWorkspaceHost means the [WithWorkspaceHost] value given to
	// the middleware is not a URL; the middleware then forwards no credential.
	ErrInvalidWorkspaceHost = errors.New("authctx: the workspace host given to Middleware is invalid; pass a URL such as https://adb-123.azuredatabricks.net to WithWorkspaceHost")
)

type identityKey struct{}

// identityValue is the context value: the identity, and the reason the
// request carries no credential, or nil.
type identityValue struct {
	identity Identity
	reason   error
}

// NewIdentityContext returns a copy of ctx that carries id. A nil ctx is
// treated as [context.Background].
func NewIdentityContext(ctx context.Context, id Identity) context.Context {
	return context.WithValue(orBackground(ctx), identityKey{}, identityValue{identity: id})
}

// newIdentityReasonContext stores id with the reason the request carries no
// credential.
func newIdentityReasonContext(ctx context.Context, id Identity, reason error) context.Context {
	return context.WithValue(ctx, identityKey{}, identityValue{identity: id, reason: reason})
}

// IdentityFromContext returns the identity stored by [Middleware] or
// [NewIdentityContext]. The error is nil when the middleware stored the
// user's credential too. Otherwise it is [ErrNoIdentity], [ErrUntrusted],
// [ErrTokenHeaderMissing], [ErrTokenHeaderInvalid] or
// [ErrInvalidWorkspaceHost], and the identity holds whatever trusted headers
// were present: it is empty when the headers were not trusted. A nil ctx
// returns ErrNoIdentity.
func IdentityFromContext(ctx context.Context) (Identity, error) {
	if ctx == nil {
		return Identity{}, ErrNoIdentity
	}
	v, ok := ctx.Value(identityKey{}).(identityValue)
	if !ok {
		return Identity{}, ErrNoIdentity
	}
	return v.identity, v.reason
}
