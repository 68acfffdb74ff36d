package transport

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// errNilRequest is returned by every layer for a nil request, which
// http.Client never sends but a direct caller might.
var errNilRequest = errors.New("transport: the request is nil: pass a request made with http.NewRequest")

// resolveBase returns next, or http.DefaultTransport when next is nil. It is
// called per request, so a later change of http.DefaultTransport is seen.
func resolveBase(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		return http.DefaultTransport
	}
	return next
}

// validateRequest checks the parts of req that every layer reads. A request
// that fails the check has its body closed, as the RoundTripper contract
// requires on every return.
func validateRequest(req *http.Request) error {
	if req == nil {
		return errNilRequest
	}
	if req.URL == nil {
		closeRequestBody(req)
		return errors.New("transport: the request has a nil URL: set req.URL before sending it")
	}
	if req.Header == nil {
		closeRequestBody(req)
		return errors.New("transport: the request has a nil Header: create requests with http.NewRequest")
	}
	return nil
}

// cloneWithHeader returns a shallow copy of req with ctx as its context and
// a deep copy of its header, which is all a layer of this package changes.
// Unlike req.Clone it shares the URL, trailer and form with req, which saves
// their copies on every request. No layer here modifies them, and a
// RoundTripper below must not modify its request either.
func cloneWithHeader(req *http.Request, ctx context.Context) *http.Request {
	clone := req.WithContext(ctx)
	clone.Header = req.Header.Clone()
	return clone
}

// closeRequestBody closes the body of a request that will not be handed to
// the next RoundTripper, which would otherwise own and close it.
func closeRequestBody(req *http.Request) {
	if req != nil && req.Body != nil {
		_ = req.Body.Close()
	}
}

// roundTripNext sends req through base and enforces the contract that
// exactly one of the response and the error is non-nil. A response that
// comes with an error has its body closed and is dropped. A nil response
// with a nil error becomes an error naming the base's type.
func roundTripNext(base http.RoundTripper, req *http.Request) (*http.Response, error) {
	resp, err := base.RoundTrip(req)
	if err != nil {
		if resp != nil && resp.Body != nil {
			_ = resp.Body.Close()
		}
		return nil, err
	}
	if resp == nil {
		return nil, fmt.Errorf("transport: the next RoundTripper (%T) returned a nil response and a nil error: it must return one of them", base)
	}
	return resp, nil
}

// closeIdleConnections forwards CloseIdleConnections to base when base
// supports it, as http.Client.CloseIdleConnections expects of a wrapper.
func closeIdleConnections(base http.RoundTripper) {
	type closeIdler interface{ CloseIdleConnections() }
	if c, ok := base.(closeIdler); ok {
		c.CloseIdleConnections()
	}
}
