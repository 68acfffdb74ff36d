package transport

import (
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/httpmeter/httpmeter/authctx"
	"github.com/httpmeter/httpmeter/product"
	"github.com/httpmeter/httpmeter/usage"
)

type usageConfig struct {
	now        func() time.Time
	logger     *slog.Logger
	appProduct product.Product
}

type appOption struct{ app product.App }

func (o appOption) applyUsage(c *usageConfig) {
	// A zero App has no product, so the option then changes nothing.
	c.appProduct, _ = o.app.Product("")
}

// WithApp returns an option that sets the product of events whose request
// context has no product to the application itself. Its token
// "<app>/<version>" is the one a [UserAgentTransport] with the same app
// sends. Without the option, or with a zero app, such events have a zero
// Product.
func WithApp(app product.App) UsageOption {
	return appOption{app: app}
}

// UsageTransport meters the token usage of response bodies as the caller
// reads them and hands one usage.Event per metered response to its
// usage.Recorder.
//
// A response is metered when it has a 2xx status, a body other than nil
// and http.NoBody, and a content type that usage.NewExtractor accepts.
// Requests whose context was made by usage.WithoutMetering, OAuth token
// requests under /oidc/, and bodies that are also an io.Writer (a
// connection, not a document) are never metered. Unmetered responses are
// returned untouched, so a 101 response keeps its writable body.
//
// A metered response's body is replaced by a wrapper that feeds the
// extractor exactly the bytes each Read returns, with no read-ahead or
// buffering, so streams reach the caller as they arrive. The caller still
// owns the body and must close it, as with any response. The wrapper calls
// Record once, when Read first returns io.EOF or when Close is first called,
// whichever comes first, and in the Close case before closing the
// underlying body. A body that is never read to EOF nor closed produces no
// event. Record runs on the goroutine that read or closed the body.
//
// The event's Credential and Product are the ones in the request context
// (the credential that a [BearerTransport] above used). Without a product
// in the context, the event's Product is the application given by
// [WithApp], or zero. A UsageTransport is
// safe for concurrent use.
type UsageTransport struct {
	next       http.RoundTripper
	recorder   usage.Recorder
	now        func() time.Time
	logger     *slog.Logger
	appProduct product.Product // zero unless WithApp was given
}

// Usage returns a UsageTransport that sends requests through next, or
// through http.DefaultTransport when next is nil, and records events to rec.
// A nil rec, or a nil usage.RecorderFunc, meters nothing: requests and
// responses pass through untouched.
func Usage(next http.RoundTripper, rec usage.Recorder, opts ...UsageOption) *UsageTransport {
	cfg := usageConfig{now: time.Now}
	for _, opt := range opts {
		if opt != nil {
			opt.applyUsage(&cfg)
		}
	}
	if f, ok := rec.(usage.RecorderFunc); ok && f == nil {
		rec = nil
	}
	return &UsageTransport{
		next:       next,
		recorder:   rec,
		now:        cfg.now,
		logger:     discardLogger(cfg.logger),
		appProduct: cfg.appProduct,
	}
}

// RoundTrip sends req through the next RoundTripper and returns its response,
// with the body wrapped for metering when the response can be metered.
func (t *UsageTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := validateRequest(req); err != nil {
		return nil, err
	}
	base := resolveBase(t.next)
	ctx := req.Context()

	if t.recorder == nil || usage.MeteringDisabled(ctx) || isTokenEndpoint(req) {
		return roundTripNext(base, req)
	}

	start := t.now()
	resp, err := roundTripNext(base, req)
	if err != nil {
		return nil, err
	}

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp, nil
	}
	if resp.Body == nil || resp.Body == http.NoBody {
		return resp, nil
	}
	if _, writable := resp.Body.(io.Writer); writable {
		// A writable body is a connection (a CONNECT tunnel, say), whose
		// writes the wrapper would hide.
		return resp, nil
	}
	extractor, ok := usage.NewExtractor(req, resp)
	if !ok {
		t.logger.DebugContext(ctx, "transport: response not metered: content type not recognized",
			"content_type", resp.Header.Get("Content-Type"), "host", req.URL.Host, "path", req.URL.Path)
		return resp, nil
	}

	event := usage.Event{
		Time:    start,
		Method:  req.Method,
		Host:    req.URL.Host,
		Path:    req.URL.Path,
		Status:  resp.StatusCode,
		Count:   1,
		Product: t.appProduct,
	}
	if p, ok := product.FromContext(ctx); ok {
		event.Product = p
	}
	if c, ok := authctx.FromContext(ctx); ok {
		event.Credential = c
	}

	resp.Body = newMeteredBody(resp.Body, extractor, event, t)
	return resp, nil
}

// CloseIdleConnections closes the idle connections of the next RoundTripper
// when it supports that.
func (t *UsageTransport) CloseIdleConnections() {
	closeIdleConnections(resolveBase(t.next))
}
