// Package authctx carries the credential of the user on whose behalf code
// runs in a [context.Context], and resolves one when the context has none.
//
// A [Credential] is a bearer token with its subject, workspace host and
// expiry. [NewContext] stores one and [FromContext] reads it back; there is
// no global "current user", so concurrent requests for different users never
// see each other's tokens. The logged and JSON forms of a Credential, and
// its printed forms for every fmt verb but %p, leave the token out. Every
// function and method of this package that takes a context treats a nil one
// as [context.Background] instead of panicking.
//
// # Providers
//
// A [Provider] resolves a credential for a context:
//
//   - [FromContextProvider] returns the one already in the context, such as
//     the signed-in user's on-behalf-of token;
//   - [StoredToken] looks a personal access token up by workspace and group;
//   - [Env] reads DATABRICKS_HOST and DATABRICKS_TOKEN;
//   - [OAuthM2M] requests a service principal's token;
//   - [Static] returns a fixed one.
//
// [Chain] tries them in order and reports in a [Resolution] which one
// returned the credential and why the others were skipped. A context made by [WithoutSlowProviders] makes the
// chain skip providers that wait on a database or a token request.
//
// # Server side
//
// [Middleware] moves the forwarded identity headers of a Databricks App into
// the request context, only when configured with [TrustForwardedHeaders], and
// removes the token header from the request handlers see.
//
// # Goroutines
//
// The rule: a goroutine gets the credential only through the context it is
// given. A goroutine started with a bare go statement and a fresh
// context.Background() has no credential. The Bearer transport then fails
// closed, or, when it was given a fallback provider, uses the application's
// own credential from that provider. It never borrows another user's token.
// Start goroutines that act for the user with [Go] or a [Group], or pass them
// [Detach](ctx). Detach and
// Go keep every context value, the product of the operation included, and drop
// only the cancellation, so work that outlives the request still acts for the
// right user.
package authctx
