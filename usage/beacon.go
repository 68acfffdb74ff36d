package usage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/httpmeter/httpmeter/product"
)

var _ Sink = (*BeaconSink)(nil)

// beaconPath is the Databricks REST endpoint the beacon calls. Listing serving
// endpoints is a cheap authenticated GET that every workspace user may make,
// and the platform attributes it by its User-Agent.
const beaconPath = "/api/2.0/serving-endpoints"

// Defaults of a [BeaconSink].
const (
	DefaultBeaconTimeout      = 10 * time.Second
	DefaultBeaconMaxDrain     = 64 << 10
	beaconPlaceholderApp      = "unknown"
	beaconPlaceholderVersion  = "0.0.0"
	beaconRetryAfterFallback  = time.Second
	beaconMaxRetryAfterHeader = 24 * time.Hour
)

// BeaconSink reports usage to Databricks by calling
// GET {workspace}/api/2.0/serving-endpoints once per event with the usage in
// the User-Agent (see [BeaconUserAgent]). The workspace is the event's
// Credential.Host, else the default workspace from [WithBeaconWorkspace];
// never the host of the metered request. The request carries the event's own
// token as Authorization: Bearer, so it is attributed to the user who made
// the metered request.
//
// Send skips, and counts in [BeaconSink.Stats], events whose Source is not
// SourceReported (their counts are unknown), events without a token, and
// events without a valid workspace. Requests run one after another in batch
// order. A failure stops the batch with a [PartialError], so the Sender
// retries only the events not yet sent. 429, 408 and 5xx responses and
// network errors are retryable; other non-2xx responses are permanent.
//
// A BeaconSink is safe for concurrent use.
type BeaconSink struct {
	client    *http.Client
	ownClient bool
	workspace string
	app       product.App
	maxDrain  int64
	logger    *slog.Logger

	sent                atomic.Int64
	skippedNoUsage      atomic.Int64
	skippedNoCredential atomic.Int64
	skippedNoWorkspace  atomic.Int64
	failed              atomic.Int64
}

// BeaconStats counts what a [BeaconSink] did with the events it was given.
type BeaconStats struct {
	Sent                int64 `json:"sent"`
	SkippedNoUsage      int64 `json:"skipped_no_usage"`
	SkippedNoCredential int64 `json:"skipped_no_credential"`
	SkippedNoWorkspace  int64 `json:"skipped_no_workspace"`
	Failed              int64 `json:"failed"`
}

// BeaconOption changes one setting of a [BeaconSink].
type BeaconOption func(*BeaconSink)

// WithBeaconHTTPClient sets the client for beacon requests. The default is a
// client private to the sink with a 10 s timeout, its own connection pool and
// redirects disabled, so a token never follows a redirect.
func WithBeaconHTTPClient(c *http.Client) BeaconOption {
	return func(b *BeaconSink) {
		if c != nil {
			b.client = c
			b.ownClient = false
		}
	}
}

// WithBeaconWorkspace sets the workspace URL, such as
// "https://adb-123.azuredatabricks.net", for events whose credential has no
// Host. Of a workspace URL, here or in Credential.Host, only the scheme, host
// and port count, as with the Databricks SDK's Config.Host. Send skips the
// events of a workspace URL with user info, or that is not http or https,
// and logs why without the user info.
func WithBeaconWorkspace(workspace string) BeaconOption {
	return func(b *BeaconSink) { b.workspace = workspace }
}

// WithBeaconApp sets the application named in the User-Agent of events that
// carry no product. Without it such events use "unknown" version "0.0.0".
func WithBeaconApp(app product.App) BeaconOption {
	return func(b *BeaconSink) { b.app = app }
}

// WithBeaconLogger sets the logger for skipped events and failed requests.
// Records never contain a token. The default discards them.
func WithBeaconLogger(l *slog.Logger) BeaconOption {
	return func(b *BeaconSink) {
		if l != nil {
			b.logger = l
		}
	}
}

// NewBeaconSink returns a beacon sink. Call [BeaconSink.CloseIdleConnections]
// when done with it to release the connections of its default client.
func NewBeaconSink(opts ...BeaconOption) *BeaconSink {
	b := &BeaconSink{
		client:    newPrivateHTTPClient(DefaultBeaconTimeout),
		ownClient: true,
		maxDrain:  DefaultBeaconMaxDrain,
		logger:    slog.New(slog.DiscardHandler),
	}
	for _, opt := range opts {
		if opt != nil {
			opt(b)
		}
	}
	return b
}

// newPrivateHTTPClient returns a client with a transport of its own, cloned
// from http.DefaultTransport when that is an *http.Transport, which never
// follows redirects.
func newPrivateHTTPClient(timeout time.Duration) *http.Client {
	var transport *http.Transport
	if t, ok := http.DefaultTransport.(*http.Transport); ok {
		transport = t.Clone()
	} else {
		transport = &http.Transport{Proxy: http.ProxyFromEnvironment}
	}
	return &http.Client{
		Transport: transport,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// Stats returns the sink's counters. It is safe to call at any time.
func (b *BeaconSink) Stats() BeaconStats {
	return BeaconStats{
		Sent:                b.sent.Load(),
		SkippedNoUsage:      b.skippedNoUsage.Load(),
		SkippedNoCredential: b.skippedNoCredential.Load(),
		SkippedNoWorkspace:  b.skippedNoWorkspace.Load(),
		Failed:              b.failed.Load(),
	}
}

// CloseIdleConnections closes the idle connections of the sink's HTTP
// client. It leaves a client set with WithBeaconHTTPClient alone.
func (b *BeaconSink) CloseIdleConnections() {
	if b.ownClient {
		b.client.CloseIdleConnections()
	}
}

// Send sends one beacon per event with reported usage. See [BeaconSink] for
// which events are skipped and how errors are classified.
func (b *BeaconSink) Send(ctx context.Context, events []Event) error {
	ctx = WithoutMetering(ctx)

	for i := range events {
		e := &events[i]
		endpoint, ok := b.endpoint(e)
		if !ok {
			continue
		}

		if err := b.sendOne(ctx, e, endpoint); err != nil {
			b.failed.Add(1)
			if i == 0 {
				return err
			}
			return &PartialError{Delivered: i, Err: err}
		}
		b.sent.Add(1)
	}
	return nil
}

// endpoint returns the beacon URL for e, or false after counting why e is
// skipped.
func (b *BeaconSink) endpoint(e *Event) (string, bool) {
	if e.Source != SourceReported {
		b.skippedNoUsage.Add(1)
		return "", false
	}
	if e.Credential.Token == "" {
		b.skippedNoCredential.Add(1)
		return "", false
	}

	workspace := e.Credential.Host
	if workspace == "" {
		workspace = b.workspace
	}
	endpoint, err := beaconEndpoint(workspace)
	if err != nil {
		b.skippedNoWorkspace.Add(1)
		b.logger.LogAttrs(context.Background(), slog.LevelWarn, "usage: beacon skipped",
			slog.String("event_id", e.ID), slog.Any("error", err))
		return "", false
	}
	return endpoint, true
}

// beaconEndpoint builds the beacon URL from the scheme, host and port of a
// workspace URL. A workspace without a scheme is taken as https, and a path,
// query or fragment is ignored, as the Databricks SDK does with Config.Host.
// Errors never contain the user info of the URL, which may hold a password
// or a token.
func beaconEndpoint(workspace string) (string, error) {
	if workspace == "" {
		return "", errors.New("usage: beacon: the event's credential has no Host and no default workspace is set: use WithBeaconWorkspace")
	}
	if !strings.Contains(workspace, "://") {
		workspace = "https://" + workspace
	}

	u, err := url.Parse(workspace)
	if err != nil {
		return "", invalidWorkspaceError(workspace, err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return "", fmt.Errorf("usage: beacon: workspace URL %q has scheme %q: use https", redactedWorkspace(u), u.Scheme)
	}
	if u.Host == "" || u.User != nil {
		return "", fmt.Errorf("usage: beacon: workspace URL %q must be scheme://host[:port] without user info", redactedWorkspace(u))
	}

	// The Databricks SDK keeps only the scheme, host and port of
	// Config.Host, so a workspace URL copied from a browser, such as
	// "https://adb-1.azuredatabricks.net/?o=1", names the same workspace.
	// The beacon does the same rather than losing the event.
	return u.Scheme + "://" + u.Host + beaconPath, nil
}

// redactedWorkspace returns u for an error message with its whole user info
// replaced by "xxxxx". Unlike [url.URL.Redacted], it hides the user name too,
// because a token is often passed as the user name.
func redactedWorkspace(u *url.URL) string {
	if u.User == nil {
		return u.String()
	}
	redacted := *u
	redacted.User = url.User("xxxxx")
	return redacted.String()
}

// invalidWorkspaceError reports a workspace URL that url.Parse rejected. When
// the value contains '@', the error echoes neither the part before the last
// '@' nor the parse error, because both may contain part of a password.
func invalidWorkspaceError(workspace string, err error) error {
	at := strings.LastIndex(workspace, "@")
	if at < 0 {
		return fmt.Errorf("usage: beacon: workspace URL %q is invalid: %w: use scheme://host[:port]", workspace, unwrapURLError(err))
	}

	redacted := "xxxxx" + workspace[at:]
	if scheme, _, ok := strings.Cut(workspace[:at], "://"); ok && isURLScheme(scheme) {
		redacted = scheme + "://" + redacted
	}
	return fmt.Errorf("usage: beacon: workspace URL %q is invalid and has user info: use scheme://host[:port] without user info", redacted)
}

// isURLScheme reports whether s has the syntax of a URL scheme: a letter
// followed by letters, digits, '+', '-' or '.'.
func isURLScheme(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		other := '0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'
		if !letter && (i == 0 || !other) {
			return false
		}
	}
	return true
}

// userAgent builds the beacon User-Agent of e.
func (b *BeaconSink) userAgent(e *Event) string {
	app := e.Product.App()
	if app.IsZero() {
		app = b.app
	}
	ua := BeaconUserAgent{
		App:          app.Name(),
		Version:      app.Version(),
		Feature:      e.Product.Feature(),
		Model:        e.Model,
		InputTokens:  e.Usage.InputTokens,
		OutputTokens: e.Usage.OutputTokens,
	}
	if app.IsZero() {
		ua.App, ua.Version = beaconPlaceholderApp, beaconPlaceholderVersion
	}
	return ua.String()
}

func (b *BeaconSink) sendOne(ctx context.Context, e *Event, endpoint string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return Permanent(fmt.Errorf("usage: beacon: building request for %s: %w", endpoint, err))
	}
	req.Header.Set("User-Agent", b.userAgent(e))
	req.Header.Set("Authorization", "Bearer "+e.Credential.Token)

	resp, err := b.client.Do(req)
	if err != nil {
		b.logger.LogAttrs(ctx, slog.LevelWarn, "usage: beacon request failed",
			slog.String("event_id", e.ID), slog.String("url", endpoint), slog.Any("error", err))
		return fmt.Errorf("usage: beacon GET %s: %w", endpoint, unwrapURLError(err))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, b.maxDrain))
	_ = resp.Body.Close()

	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}

	b.logger.LogAttrs(ctx, slog.LevelWarn, "usage: beacon rejected",
		slog.String("event_id", e.ID), slog.String("url", endpoint), slog.Int("status", resp.StatusCode))
	err = fmt.Errorf("usage: beacon GET %s returned status %d", endpoint, resp.StatusCode)
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		return &RetryAfterError{After: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()), Err: err}
	case resp.StatusCode == http.StatusRequestTimeout, resp.StatusCode >= 500:
		return err
	default:
		return Permanent(err)
	}
}

// parseRetryAfter reads a Retry-After value in seconds or as an HTTP date.
// A missing or invalid value gives one second. A value above a day is
// clamped to a day, and the Sender clamps it further to its maximum backoff.
func parseRetryAfter(value string, now time.Time) time.Duration {
	if value == "" {
		return beaconRetryAfterFallback
	}
	if seconds, err := strconv.ParseInt(value, 10, 64); err == nil {
		if seconds < 0 {
			return beaconRetryAfterFallback
		}
		if seconds > int64(beaconMaxRetryAfterHeader/time.Second) {
			return beaconMaxRetryAfterHeader
		}
		return time.Duration(seconds) * time.Second
	}
	if when, err := http.ParseTime(value); err == nil {
		return min(max(when.Sub(now), 0), beaconMaxRetryAfterHeader)
	}
	return beaconRetryAfterFallback
}

// unwrapURLError returns the cause inside a *url.Error, whose message repeats
// the full request URL.
func unwrapURLError(err error) error {
	if urlErr, ok := errors.AsType[*url.Error](err); ok {
		return urlErr.Err
	}
	return err
}
