// Package httpmeter builds one [net/http.RoundTripper] that tags, authenticates
// and meters the requests an application sends to Databricks and LLM APIs on
// behalf of many users.
//
// [New] wraps a base transport (nil means [net/http.DefaultTransport], looked
// up on every request) in three layers from the transport package:
//
//	UserAgent -> Bearer -> Usage -> base
//
// UserAgent adds the product token of the current operation, such as
// "acme_crew_gen/0.1.0", to the User-Agent header. The product comes from the
// request's context ([product.NewContext]); a request without one carries the
// token of [Config.App] itself. The token is merged into a User-Agent the
// caller already set, so the Databricks SDK's own parts stay.
//
// Bearer sets "Authorization: Bearer <token>" from the credential in the
// request's context ([authctx.NewContext]), or from [Config.Provider] when the
// context has none, and only for the origins in [Config.AllowedOrigins]. There
// is no process-wide "current user", so concurrent requests for different users
// never see each other's tokens. A request to an allowed origin without any
// credential fails with an error instead of borrowing one. Bearer leaves an
// Authorization header the caller already set, such as the Databricks SDK's
// own, unchanged.
//
// Usage reads each response body as the caller reads it and finds the
// provider's usage block in JSON, SSE, NDJSON, JSON-array and AWS event-stream
// bodies. It hands exactly one [usage.Event] per metered response to
// [Config.Recorder], when the body reaches EOF or is closed, whichever comes
// first. It neither buffers nor reads ahead, so streams stay live. A nil
// Recorder turns metering off.
//
// # Why this order
//
// UserAgent is outermost, so every request carries the product token,
// including requests that Bearer rejects before they leave the process and
// requests the caller authenticated itself. Bearer sits above Usage, because it
// passes the credential it used down in the request's context, so the event
// that Usage builds names exactly the credential that authenticated the request
// and the usage sender never has to look one up after the response. Usage is
// innermost, next to the base transport, so it sees the response that the
// server sent, before any layer above could replace it.
//
// # What one request is
//
// The stack meters responses, so what counts as one request depends on the
// code above it:
//
//   - A plain [net/http.Client] sends every redirect hop through the whole
//     stack with the same context. Bearer decides per hop whether the new
//     origin is allowed, so a token never follows a redirect to another host.
//   - go-retryablehttp (Client.HTTPClient.Transport = stack) sends each attempt
//     through the stack. Only attempts that end in a 2xx response with a usage
//     block produce events, so a retried 503 is not counted and the successful
//     attempt is counted once.
//   - The Databricks SDK (config.Config.HTTPTransport = stack) sets its own
//     User-Agent and Authorization before the stack sees the request, and
//     retries above it. The stack appends the product token, leaves the SDK's
//     Authorization alone, and meters the SDK's serving-endpoint calls. The
//     SDK's OAuth token refreshes pass through the stack too, but their
//     responses carry no usage block, so they are not metered.
//
// # Concurrency and ownership
//
// The RoundTripper returned by New is safe for concurrent use by any number of
// goroutines. It never reads a request body and closes it on every early
// return, as [net/http.RoundTripper] requires. A caller owns each response body
// as usual and must read or close it; the usage event is emitted at that point.
//
// Telemetry sent by a [usage.Sender] runs in contexts made by
// [usage.WithoutMetering], so it is never metered itself.
package httpmeter
