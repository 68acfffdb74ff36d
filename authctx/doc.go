// Package authctx carries the credential of the user on whose behalf code
// runs in a [context.Context], and resolves one when the context has none.
//
// A [Credential] is a bearer token with its subject, workspace host and
// expiry. [NewContext] stores one and [FromContext] reads it back; there is
// no global "current user", so concurrent requests for different users never
// see each other's tokens. Every printed, logged or JSON form of a Credential
// leaves the token out.
package authctx
