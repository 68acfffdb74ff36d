// Package transport provides the http.RoundTripper layers of httpmeter.
// [UserAgent] tags a request with the product it is made for. [Bearer]
// authenticates it with the credential carried in its context. [Usage]
// meters the token usage of its response body as the caller reads it.
// [Chain] stacks them; the usual order, outermost first, is UserAgent,
// Bearer, Usage, then the base transport.
//
// Every layer follows the http.RoundTripper contract: it never modifies the
// caller's request (it changes a clone), it closes the request body when it
// returns before handing the request on, and it never returns both a
// response and an error. A nil next RoundTripper is resolved to
// http.DefaultTransport on each call, so replacing http.DefaultTransport
// later (as httpmock.Activate does) still takes effect. Each layer forwards
// CloseIdleConnections to the transport below it. All layers are safe for
// concurrent use once constructed.
package transport
