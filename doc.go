// Package httpmeter builds one [net/http.RoundTripper] that tags, authenticates
// and meters the requests an application sends to Databricks and LLM APIs on
// behalf of many users.
//
// [New] wraps a base transport in three layers from the transport package:
//
//	UserAgent -> Bearer -> Usage -> base
//
// A nil base means [net/http.DefaultTransport], looked up on every request, so
// httpmock.Activate still works after New.
//
// UserAgent adds the product token of the current operation, such as
// "acme_crew_gen/0.1.0", to the User-Agent header. The product comes from the
// request's context ([product.NewContext]). A request without one carries the
// token of [Config.App] itself, such as "acme/0.1.0". The token is appended to
// a User-Agent the caller already set, so the Databricks SDK's own parts stay.
//
// Bearer sets "Authorization: Bearer <token>" from the credential in the
// request's context ([authctx.NewContext]), or from [Config.Provider] when the
// context has none, and only for the origins in [Config.AllowedOrigins]. There
// is no process-wide "current user", so concurrent requests for different
// users never see each other's tokens. A request to an allowed origin without
// any credential fails with an error wrapping [authctx.ErrNoCredential] and is
// not sent. By default Bearer leaves an Authorization header the caller already
// set, such as the Databricks SDK's, unchanged.
//
// Usage reads each 2xx response body as the caller reads it and finds the
// provider's usage block in JSON, SSE, NDJSON, JSON-array and AWS event-stream
// bodies. It hands exactly one [usage.Event] per metered response to
// [Config.Recorder], when the body reaches EOF or is closed, whichever comes
// first. A body that is neither read to EOF nor closed produces no event. Usage
// neither buffers nor reads ahead, so streams reach the caller as they arrive.
// A nil Recorder leaves the Usage layer out.
//
// # Why this order
//
// Bearer sits above Usage because it passes the credential it used down in
// the request's context. The event that Usage builds therefore names exactly
// the credential that authenticated the request (none when Bearer did not
// authenticate it), and the sink that delivers the event later never has to
// look a credential up. Usage is innermost, next to the
// base, so it meters the response as the server sent it. UserAgent depends on
// neither of the others and is outermost, so every request that leaves the
// process carries the product token, whether Bearer authenticated it or not.
//
// # What one request is
//
// The stack meters responses, so what counts as one request depends on the
// code above it:
//
//   - A plain [net/http.Client] sends every redirect hop through the whole
//     stack with the same context. Bearer checks the origin of each hop, so a
//     token never follows a redirect to an origin that is not allowed.
//   - go-retryablehttp (Client.HTTPClient.Transport = stack) sends each attempt
//     through the stack. Responses other than 2xx are never metered, so a
//     retried 503 produces no event and the attempt that succeeds produces one.
//   - The Databricks SDK (config.Config.HTTPTransport = stack) sets its own
//     User-Agent and Authorization before the stack receives a request, and
//     retries above it. The stack appends the product token, leaves the SDK's
//     Authorization alone and meters the SDK's serving-endpoint queries. Bearer
//     and Usage pass requests under /oidc/ through untouched, so the SDK's
//     OAuth token requests are neither authenticated nor metered.
//
// An event carries no credential when the caller, such as the Databricks SDK,
// authenticated the request itself, and the usage beacon then skips it (it
// counts it in BeaconStats.SkippedNoCredential). To meter each user of one
// shared SDK client under their own identity, put their credential in the
// context and set Config.BearerOptions to transport.ReplaceAuthorization(),
// which replaces the SDK's token on allowed origins.
//
// # Concurrency and ownership
//
// The RoundTripper returned by New is safe for concurrent use by any number of
// goroutines. It never modifies the caller's request, and it closes the
// request body when it returns an error before sending. The caller owns each
// response body as usual and must read or close it. The Recorder runs on the
// goroutine that reads or closes the body, so it must return quickly; a
// [usage.Sender] queues the event and returns without blocking.
//
// The usage beacon sink sends its requests with a context made by
// [usage.WithoutMetering], so telemetry that passes through a stack is never
// metered itself. Keep the beacon sink on its own HTTP client, its default:
// through a stack, the UserAgent layer would append the application's token
// to the beacon's User-Agent, which then no longer parses as a beacon.
package httpmeter
