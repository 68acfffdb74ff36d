package usage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

var _ Sink = (*JSONSink)(nil)

// Defaults of a [JSONSink].
const (
	DefaultJSONTimeout       = 30 * time.Second
	DefaultJSONRetryMax      = 3
	DefaultJSONRetryWaitMin  = 200 * time.Millisecond
	DefaultJSONRetryWaitMax  = 5 * time.Second
	DefaultJSONMaxRetryAfter = 30 * time.Second
	jsonMaxResponseDrain     = 64 << 10
)

// JSONSink POSTs each batch as a JSON object {"events": [...]} to a collector
// URL. Every event carries its ID, and the request carries an
// Idempotency-Key header derived from the IDs of the batch, so a collector
// can discard a batch it already stored when the request is retried. The
// credential's token is never in the body.
//
// Requests go through go-retryablehttp, which retries connection errors, 429
// and 5xx responses with jittered exponential backoff and honours a
// Retry-After header up to a clamp. When those retries are used up, or when
// the next wait would end after the deadline of Send's context, Send returns
// a retryable error at once ([RetryAfterError] on 429), so a [Sender] may try
// the whole batch again later. Other non-2xx responses return a
// [PermanentError]. Events whose Source is SourceMissing are sent with source
// "missing" and zero counts.
// NOTE: a Sender retry repeats the go-retryablehttp retries, so one batch can
// take up to (RetryMax+1) times the Sender's attempts in requests.
//
// A JSONSink is safe for concurrent use.
type JSONSink struct {
	endpoint      string
	redacted      string
	userInfo      []string
	httpClient    *http.Client
	ownClient     bool
	retryMax      int
	retryWaitMin  time.Duration
	retryWaitMax  time.Duration
	header        http.Header
	maxRetryAfter time.Duration
	logger        *slog.Logger
}

// JSONOption changes one setting of a [JSONSink].
type JSONOption func(*JSONSink)

// WithJSONHTTPClient sets the client under go-retryablehttp. The default is a
// client private to the sink with a 30 s timeout that never follows
// redirects.
// NOTE: go-retryablehttp v0.7.8 calls CloseIdleConnections on this client
// whenever a request does not succeed, which also closes the idle
// connections of other users of a shared client.
func WithJSONHTTPClient(c *http.Client) JSONOption {
	return func(s *JSONSink) {
		if c != nil {
			s.httpClient = c
			s.ownClient = false
		}
	}
}

// WithJSONRetry sets how many times go-retryablehttp retries one request and
// the range of its jittered exponential backoff.
func WithJSONRetry(retryMax int, waitMin, waitMax time.Duration) JSONOption {
	return func(s *JSONSink) {
		if retryMax >= 0 {
			s.retryMax = retryMax
		}
		if waitMin > 0 {
			s.retryWaitMin = waitMin
		}
		if waitMax >= s.retryWaitMin {
			s.retryWaitMax = waitMax
		}
	}
}

// WithJSONMaxRetryAfter sets the longest wait a Retry-After header can
// request. Longer values are clamped to it.
func WithJSONMaxRetryAfter(d time.Duration) JSONOption {
	return func(s *JSONSink) {
		if d > 0 {
			s.maxRetryAfter = d
		}
	}
}

// WithJSONHeader adds a header to every request, such as the collector's own
// Authorization. Header values are never logged.
func WithJSONHeader(name, value string) JSONOption {
	return func(s *JSONSink) { s.header.Add(name, value) }
}

// WithJSONLogger sets the logger for requests and retries, including the log
// lines of go-retryablehttp. URLs in them lose their query string, and their
// user info is replaced by "xxxxx". No header value or body is logged. The
// default discards them.
func WithJSONLogger(l *slog.Logger) JSONOption {
	return func(s *JSONSink) {
		if l != nil {
			s.logger = l
		}
	}
}

// NewJSONSink returns a sink that POSTs batches to endpoint, an http or https
// URL. Its errors never show the user info of endpoint, which may hold a
// token or a password. Call [JSONSink.CloseIdleConnections] when done with it.
func NewJSONSink(endpoint string, opts ...JSONOption) (*JSONSink, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, invalidJSONEndpointError(endpoint, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("usage: JSON sink URL %q must be an absolute http or https URL", redactEndpoint(endpoint, u))
	}

	s := &JSONSink{
		endpoint:      endpoint,
		redacted:      redactEndpoint(endpoint, u),
		userInfo:      userInfoSecrets(endpoint, u),
		httpClient:    newPrivateHTTPClient(DefaultJSONTimeout),
		ownClient:     true,
		retryMax:      DefaultJSONRetryMax,
		retryWaitMin:  DefaultJSONRetryWaitMin,
		retryWaitMax:  DefaultJSONRetryWaitMax,
		header:        make(http.Header),
		maxRetryAfter: DefaultJSONMaxRetryAfter,
		logger:        slog.New(slog.DiscardHandler),
	}
	for _, opt := range opts {
		if opt != nil {
			opt(s)
		}
	}
	return s, nil
}

// invalidJSONEndpointError reports an endpoint that url.Parse rejected. When
// the endpoint contains '@', the parse error is left out, because it can
// quote part of a password, such as an invalid escape or a password taken
// for a port.
func invalidJSONEndpointError(endpoint string, err error) error {
	if strings.Contains(endpoint, "@") {
		return errors.New("usage: JSON sink URL is invalid and has user info, so the parse error is not shown: " +
			"percent-encode '@', ':', '/', '?', '#' and '%' in the user name and password")
	}
	return fmt.Errorf("usage: JSON sink URL is invalid: %w", unwrapURLError(err))
}

// CloseIdleConnections closes the idle connections of the sink's default
// HTTP client. It leaves a client set with WithJSONHTTPClient alone.
func (s *JSONSink) CloseIdleConnections() {
	if s.ownClient {
		s.httpClient.CloseIdleConnections()
	}
}

// jsonBatch is the request body.
type jsonBatch struct {
	Events []jsonEvent `json:"events"`
}

// jsonEvent is the wire form of an [Event]. It names the credential by
// subject, workspace and method, never by token.
type jsonEvent struct {
	ID               string    `json:"id"`
	Time             time.Time `json:"time"`
	Product          string    `json:"product,omitempty"`
	App              string    `json:"app,omitempty"`
	Feature          string    `json:"feature,omitempty"`
	Subject          string    `json:"subject,omitempty"`
	Workspace        string    `json:"workspace,omitempty"`
	CredentialMethod string    `json:"credential_method,omitempty"`
	Method           string    `json:"method,omitempty"`
	Host             string    `json:"host,omitempty"`
	Path             string    `json:"path,omitempty"`
	Status           int       `json:"status,omitempty"`
	DurationMillis   float64   `json:"duration_ms"`
	Provider         string    `json:"provider,omitempty"`
	Model            string    `json:"model,omitempty"`
	Usage            Usage     `json:"usage"`
	Source           Source    `json:"source"`
	Complete         bool      `json:"complete"`
	Warnings         []string  `json:"warnings,omitempty"`
	Count            int       `json:"count"`
}

func newJSONEvent(e *Event) jsonEvent {
	return jsonEvent{
		ID:               e.ID,
		Time:             e.Time,
		Product:          e.Product.UserAgent(),
		App:              e.Product.App().Name(),
		Feature:          e.Product.Feature(),
		Subject:          e.Credential.Subject,
		Workspace:        e.Credential.Host,
		CredentialMethod: string(e.Credential.Method),
		Method:           e.Method,
		Host:             e.Host,
		Path:             e.Path,
		Status:           e.Status,
		DurationMillis:   float64(e.Duration) / float64(time.Millisecond),
		Provider:         e.Provider,
		Model:            e.Model,
		Usage:            e.Usage,
		Source:           e.Source,
		Complete:         e.Complete,
		Warnings:         e.Warnings,
		Count:            e.Count,
	}
}

// IdempotencyKey returns the Idempotency-Key of a batch: the hex SHA-256 of
// its event IDs in order, so every attempt of the same batch has the same
// key.
func IdempotencyKey(events []Event) string {
	h := sha256.New()
	for i := range events {
		h.Write([]byte(events[i].ID))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Send POSTs events as one JSON batch. See [JSONSink] for retries and error
// classes.
func (s *JSONSink) Send(ctx context.Context, events []Event) error {
	if len(events) == 0 {
		return nil
	}

	batch := jsonBatch{Events: make([]jsonEvent, len(events))}
	for i := range events {
		batch.Events[i] = newJSONEvent(&events[i])
	}
	body, err := json.Marshal(batch)
	if err != nil {
		return Permanent(fmt.Errorf("usage: JSON sink: encoding %d events: %w", len(events), err))
	}

	req, err := retryablehttp.NewRequestWithContext(WithoutMetering(ctx), http.MethodPost, s.endpoint, body)
	if err != nil {
		return Permanent(fmt.Errorf("usage: JSON sink: building request for %s: %w", s.redacted, unwrapURLError(err)))
	}
	for name, values := range s.header {
		req.Header[name] = values
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", IdempotencyKey(events))

	resp, err := s.newRetryClient().Do(req)
	if err != nil {
		if resp != nil {
			_ = resp.Body.Close()
		}
		s.logger.LogAttrs(ctx, slog.LevelWarn, "usage: JSON sink request failed",
			slog.String("url", s.redacted), slog.Int("events", len(events)), slog.Any("error", unwrapURLError(err)))
		return fmt.Errorf("usage: JSON sink POST %s: %w", s.redacted, unwrapURLError(err))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, jsonMaxResponseDrain))
	_ = resp.Body.Close()

	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}

	s.logger.LogAttrs(ctx, slog.LevelWarn, "usage: JSON sink rejected batch",
		slog.String("url", s.redacted), slog.Int("events", len(events)), slog.Int("status", resp.StatusCode))
	err = fmt.Errorf("usage: JSON sink POST %s returned status %d", s.redacted, resp.StatusCode)
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		return &RetryAfterError{After: min(parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()), s.maxRetryAfter), Err: err}
	case resp.StatusCode == http.StatusRequestTimeout, resp.StatusCode >= 500:
		return err
	default:
		return Permanent(err)
	}
}

// newRetryClient returns a go-retryablehttp client for one Send. Its
// CheckRetry and Backoff share that Send's retry state, and only the HTTP
// client is shared between Sends.
func (s *JSONSink) newRetryClient() *retryablehttp.Client {
	retries := &jsonRetries{sink: s}
	return &retryablehttp.Client{
		HTTPClient:   s.httpClient,
		Logger:       retryLogger{logger: s.logger, secrets: s.userInfo},
		RetryWaitMin: s.retryWaitMin,
		RetryWaitMax: s.retryWaitMax,
		RetryMax:     s.retryMax,
		CheckRetry:   retries.checkRetry,
		Backoff:      retries.backoff,
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
}

// jsonRetries is the retry state of one Send. go-retryablehttp calls
// checkRetry and then backoff from the goroutine of Send, so it needs no
// lock.
type jsonRetries struct {
	sink *JSONSink

	// count is the number of retries decided so far.
	count int

	// wait is the wait before the retry that checkRetry decided last.
	wait time.Duration
}

// checkRetry is the go-retryablehttp CheckRetry. It applies
// retryablehttp.DefaultRetryPolicy and draws the wait before the next retry.
// When that wait would end after the deadline of ctx, it stops retrying, so
// Do returns the last response or error at once and Send turns it into a
// retryable error while the caller still has time to use it.
func (r *jsonRetries) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	retry, checkErr := retryablehttp.DefaultRetryPolicy(ctx, resp, err)
	if !retry || r.count >= r.sink.retryMax {
		// Do stops by itself after RetryMax retries, so no wait is drawn.
		return retry, checkErr
	}

	wait := r.sink.retryWait(r.count, resp)
	if deadline, ok := ctx.Deadline(); ok {
		if left := time.Until(deadline); wait > left {
			r.logStop(ctx, resp, err, wait, left)
			return false, nil
		}
	}

	r.count++
	r.wait = wait
	return retry, checkErr
}

// logStop logs that checkRetry stopped retrying, with the wait it drew and
// the time left until the deadline.
func (r *jsonRetries) logStop(ctx context.Context, resp *http.Response, err error, wait, left time.Duration) {
	attrs := []slog.Attr{
		slog.String("url", r.sink.redacted), slog.Int("retries", r.count),
		slog.Duration("wait", wait), slog.Duration("time_left", left),
	}
	if resp != nil {
		attrs = append(attrs, slog.Int("status", resp.StatusCode))
	} else {
		attrs = append(attrs, slog.Any("error", unwrapURLError(err)))
	}
	r.sink.logger.LogAttrs(ctx, slog.LevelInfo, "usage: JSON sink stopped retrying because the next wait ends after the deadline", attrs...)
}

// backoff is the go-retryablehttp Backoff. It returns the wait that
// checkRetry drew, so the wait checked against the deadline is the wait
// taken.
func (r *jsonRetries) backoff(_, _ time.Duration, _ int, _ *http.Response) time.Duration {
	return r.wait
}

// retryWait returns the wait before retry number attempt+1: a server's
// Retry-After on a 429 or 503 response, clamped to the sink's maximum, else a
// wait drawn uniformly from [waitMin, min(waitMax, waitMin*2^attempt)].
func (s *JSONSink) retryWait(attempt int, resp *http.Response) time.Duration {
	waitMin, waitMax := s.retryWaitMin, s.retryWaitMax
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if value := resp.Header.Get("Retry-After"); value != "" {
			return min(parseRetryAfter(value, time.Now()), s.maxRetryAfter)
		}
	}

	ceiling := waitMin
	for i := 0; i < attempt && ceiling < waitMax; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, waitMax)
	if ceiling <= waitMin {
		return waitMin
	}
	return waitMin + time.Duration(rand.Int64N(int64(ceiling-waitMin)+1))
}

// redactedUserInfo is the text that errors and logs show in place of a
// URL's user info.
const redactedUserInfo = "xxxxx"

// redactURL returns u for an error or a log record, without its query string
// or fragment and with its whole user info replaced by "xxxxx". Unlike
// [url.URL.Redacted], it hides the user name too, because a token is often
// passed as the user name.
func redactURL(u *url.URL) string {
	clean := *u
	clean.RawQuery = ""
	clean.ForceQuery = false
	clean.Fragment = ""
	clean.RawFragment = ""
	if clean.User != nil {
		clean.User = url.User(redactedUserInfo)
	}
	if at := strings.LastIndex(clean.Opaque, "@"); at >= 0 {
		// "http:token@host" parses as an opaque URL with no user info, and
		// "user:password@host", without a scheme, as one whose scheme is the
		// user name, so neither scheme nor opaque part is shown.
		return redactedUserInfo + clean.Opaque[at:]
	}
	return clean.String()
}

// redactEndpoint returns endpoint, parsed as u, for errors and logs. When
// endpoint contains an '@', only the text after the last '@' is shown, after
// the scheme. A user info with an unescaped '/', '?', '#' or '@' makes the
// parser end it early and take the rest for host, path or fragment, so the
// last '@' is the only reliable end of the user info.
func redactEndpoint(endpoint string, u *url.URL) string {
	at := strings.LastIndex(endpoint, "@")
	if at < 0 {
		return redactURL(u)
	}

	rest := endpoint[at+1:]
	if end := strings.IndexAny(rest, "?#"); end >= 0 {
		rest = rest[:end]
	}
	scheme := ""
	if i := strings.Index(endpoint[:at], "://"); i >= 0 && (u.Scheme == "http" || u.Scheme == "https") {
		scheme = u.Scheme + "://"
	}
	return scheme + redactedUserInfo + "@" + rest
}

// userInfoSecrets returns the user name and password of endpoint, parsed as
// u, as they may appear in log text: decoded, as net/http quotes them in
// errors, and escaped, as in the URL. The text between the scheme and the
// last '@' of endpoint, and its parts around each ':', count as user info
// too (see redactEndpoint). Empty strings are left out.
func userInfoSecrets(endpoint string, u *url.URL) []string {
	var secrets []string
	add := func(v string) {
		if v != "" && !slices.Contains(secrets, v) {
			secrets = append(secrets, v)
		}
	}

	if u.User != nil {
		add(u.User.String())
		add(u.User.Username())
		add(url.PathEscape(u.User.Username()))
		add(url.QueryEscape(u.User.Username()))
		if password, ok := u.User.Password(); ok {
			add(password)
			add(url.PathEscape(password))
			add(url.QueryEscape(password))
		}
	}
	if at := strings.LastIndex(endpoint, "@"); at >= 0 {
		userInfo := endpoint[:at]
		if scheme := strings.Index(userInfo, "://"); scheme >= 0 {
			userInfo = userInfo[scheme+len("://"):]
		}
		add(userInfo)
		for part := range strings.SplitSeq(userInfo, ":") {
			add(part)
		}
	}

	// Longer strings first, so a secret that contains another is replaced
	// whole.
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	return secrets
}
