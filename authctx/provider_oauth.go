package authctx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// maxTokenResponseBytes bounds the token response read, as golang.org/x/oauth2
// v0.20.0 does.
const maxTokenResponseBytes = 1 << 20

// maxExpiresInSeconds is ten years, far beyond any real token lifetime and far
// below the overflow of time.Duration.
const maxExpiresInSeconds = 10 * 365 * 24 * 60 * 60

// OAuthM2M returns OAuth machine-to-machine tokens of a Databricks service
// principal, obtained with the client credentials grant. Create it with
// [NewOAuthM2M]. It is safe for concurrent use.
//
// The token request matches the Databricks SDK v0.100.0 (config.M2mCredentials,
// which uses golang.org/x/oauth2/clientcredentials with AuthStyleInHeader): a
// form POST of grant_type=client_credentials and scope=all-apis to
// "{host}/oidc/v1/token", with the URL-escaped client id and secret as HTTP
// basic authentication. The SDK finds the endpoint through the workspace's
// discovery document; this provider uses the workspace path directly, and
// [WithTokenURL] replaces it.
//
// A token is reused until the refresh leeway before its expiry, or until half
// its lifetime has passed when the leeway is longer. A token without
// expires_in never expires, as in golang.org/x/oauth2. Only one token
// request per provider is in flight at a time. It runs with the first
// caller's context values, without that caller's cancellation and credential,
// inside [WithoutSlowProviders] and after the [WithRequestContext] function.
type OAuthM2M struct {
	host         string
	clientID     string
	clientSecret string
	tokenURL     string
	settings     settings
	client       *http.Client
	flight       singleflight.Group

	mu         sync.Mutex
	token      Credential
	refreshAt  time.Time // zero when the token never expires
	retryAt    time.Time // no refresh before it after a failed one
	refreshing bool      // a token request is in flight
}

// OAuthError is a token request that the endpoint rejected. It carries the
// HTTP status and the OAuth "error" code (RFC 6749, section 5.2) but neither
// the client secret nor the response body.
type OAuthError struct {
	// TokenURL is the endpoint that returned the error.
	TokenURL string

	// ClientID is the OAuth client the token was requested for.
	ClientID string

	// StatusCode is the HTTP status of the response.
	StatusCode int

	// Code is the OAuth error code, such as "invalid_client", or "" when the
	// body had none.
	Code string
}

// Error returns the endpoint, client id, status and OAuth error code.
func (e *OAuthError) Error() string {
	code := e.Code
	if code == "" {
		code = "none"
	}
	return fmt.Sprintf("authctx: oauth-m2m token request to %s for client %q failed: HTTP %d, OAuth error %s; check the client id and secret of the service principal",
		e.TokenURL, e.ClientID, e.StatusCode, code)
}

// NewOAuthM2M returns a provider for the service principal clientID with
// clientSecret in the workspace host, normalized by [NormalizeHost]. It reads
// [WithHTTPClient], [WithTokenURL], [WithScopes], [WithRefreshLeeway],
// [WithTokenRequestTimeout], [WithRequestContext], [WithNegativeTTL] (the
// wait after a failed refresh while the old token is still valid),
// [WithClock] and [WithLogger].
func NewOAuthM2M(host, clientID, clientSecret string, opts ...Option) (*OAuthM2M, error) {
	normalized, err := normalizeHost(host)
	if err != nil {
		return nil, fmt.Errorf("authctx: oauth-m2m: %w", err)
	}
	if normalized == "" {
		return nil, errors.New("authctx: oauth-m2m: workspace host is empty; pass the workspace URL")
	}
	if clientID == "" {
		return nil, errors.New("authctx: oauth-m2m: client id is empty; pass the service principal's application id")
	}
	if clientSecret == "" {
		return nil, fmt.Errorf("authctx: oauth-m2m: client secret for client %q is empty; pass the service principal's OAuth secret", clientID)
	}

	s := newSettings(opts)
	if s.refreshLeeway < 0 {
		return nil, fmt.Errorf("authctx: oauth-m2m: refresh leeway %v is negative; use 0 to refresh at expiry", s.refreshLeeway)
	}
	if s.negativeTTL < 0 {
		return nil, fmt.Errorf("authctx: oauth-m2m: negative TTL %v is negative; use 0 to retry a failed refresh at once", s.negativeTTL)
	}
	if s.requestTimeout <= 0 {
		return nil, fmt.Errorf("authctx: oauth-m2m: token request timeout %v is not positive; use a duration such as %v", s.requestTimeout, DefaultTokenRequestTimeout)
	}

	tokenURL := s.tokenURL
	if tokenURL == "" {
		tokenURL = normalized + "/oidc/v1/token"
	}
	parsed, err := url.Parse(tokenURL)
	if err != nil || (parsed.Scheme != "https" && parsed.Scheme != "http") || parsed.Host == "" || parsed.User != nil {
		return nil, fmt.Errorf("authctx: oauth-m2m: invalid token URL %q; use an http or https URL without user information", redactUserinfo(tokenURL))
	}

	client := s.httpClient
	if client == nil {
		client = &http.Client{}
	}

	return &OAuthM2M{
		host:         normalized,
		clientID:     clientID,
		clientSecret: clientSecret,
		tokenURL:     tokenURL,
		settings:     s,
		client:       client,
	}, nil
}

// Name returns "oauth-m2m".
func (p *OAuthM2M) Name() string { return "oauth-m2m" }

// Slow returns true, because a call can wait on a token request.
func (p *OAuthM2M) Slow() bool { return true }

// Credential returns the cached token, or requests a new one when the cached
// one is within the refresh leeway of its expiry. The caller that starts the
// request waits for it, and callers that arrive while it is in flight get the
// cached token at once if it has not expired. When that request fails
// while the cached token is still valid, the cached token is returned, the
// failure is logged, and the next request waits for the negative TTL. Errors never contain the secret or a token; a rejected
// request returns an [*OAuthError]. A panic while requesting the token, such
// as one in the HTTP client's transport, is returned as an error that
// contains the panic value.
func (p *OAuthM2M) Credential(ctx context.Context) (Credential, error) {
	if p == nil || p.client == nil {
		return Credential{}, errors.New("authctx: the OAuthM2M provider is not initialized; create it with authctx.NewOAuthM2M")
	}

	ctx = orBackground(ctx)
	if token, fresh := p.cachedToken(); fresh {
		return token, nil
	}

	results := p.flight.DoChan("token", func() (value any, err error) {
		defer recoverSharedWork(ctx, p.settings.logger, "oauth-m2m token request", &err, p.clientSecret)

		// A caller that missed the cache just before the previous request
		// stored its token would otherwise send a second request.
		if token, fresh := p.cachedToken(); fresh {
			return token, nil
		}
		return p.refresh(ctx)
	})

	select {
	case result := <-results:
		if result.Err == nil {
			return result.Val.(Credential), nil
		}
		if token, valid := p.validToken(); valid {
			return token, nil
		}
		return Credential{}, result.Err
	case <-ctx.Done():
		return Credential{}, fmt.Errorf("authctx: oauth-m2m token for client %q: %w", p.clientID, context.Cause(ctx))
	}
}

// cachedToken returns the cached token and whether to use it without a
// refresh: it is outside the refresh leeway, or it has not expired and either
// a refresh is in flight or one failed less than the negative TTL ago.
func (p *OAuthM2M) cachedToken() (Credential, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()

	if p.token.IsZero() {
		return Credential{}, false
	}
	now := p.settings.now()
	if p.refreshAt.IsZero() || now.Before(p.refreshAt) {
		return p.token, true
	}
	return p.token, (p.refreshing || now.Before(p.retryAt)) && !p.token.Expired(now)
}

// validToken returns the cached token and whether it has not expired yet.
func (p *OAuthM2M) validToken() (Credential, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()

	return p.token, !p.token.IsZero() && !p.token.Expired(p.settings.now())
}

// refresh requests a new token and caches it. While it runs, callers whose
// cached token has not expired use that token instead of waiting.
func (p *OAuthM2M) refresh(callerCtx context.Context) (Credential, error) {
	p.setRefreshing(true)
	defer p.setRefreshing(false)

	ctx, cancel := context.WithTimeout(sharedWorkContext(callerCtx), p.settings.requestTimeout)
	defer cancel()
	ctx = p.settings.requestContext(ctx)

	started := p.settings.now()
	token, err := p.requestToken(ctx, started)
	if err != nil {
		p.settings.logger.LogAttrs(ctx, slog.LevelError, "authctx: oauth-m2m token request failed",
			slog.String("client_id", p.clientID), slog.String("token_url", p.tokenURL), slogError(err))

		p.mu.Lock()
		p.retryAt = p.settings.now().Add(p.settings.negativeTTL)
		p.mu.Unlock()
		return Credential{}, err
	}

	p.settings.logger.LogAttrs(ctx, slog.LevelDebug, "authctx: oauth-m2m token refreshed",
		slog.String("client_id", p.clientID), slog.Time("expiry", token.Expiry))

	p.mu.Lock()
	p.token = token
	p.refreshAt = refreshTime(started, token.Expiry, p.settings.refreshLeeway)
	p.retryAt = time.Time{}
	p.mu.Unlock()
	return token, nil
}

func (p *OAuthM2M) setRefreshing(refreshing bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refreshing = refreshing
}

// refreshTime returns when a token issued at issued and expiring at expiry is
// replaced: leeway before expiry, but never earlier than halfway through its
// lifetime, so a leeway longer than the lifetime does not send a token
// request on every call. It returns the zero time for a token that never
// expires.
func refreshTime(issued, expiry time.Time, leeway time.Duration) time.Time {
	if expiry.IsZero() {
		return time.Time{}
	}
	return expiry.Add(-min(leeway, expiry.Sub(issued)/2))
}

// tokenResponse holds the fields of a token endpoint response that are used,
// success (RFC 6749, section 5.1) and error (section 5.2) alike.
type tokenResponse struct {
	AccessToken string          `json:"access_token"`
	TokenType   string          `json:"token_type"`
	ExpiresIn   json.RawMessage `json:"expires_in"`
	Error       string          `json:"error"`
}

// requestToken sends one token request. Expiry is counted from started, the
// time before the request was sent, so network delay shortens the lifetime
// rather than extending it.
func (p *OAuthM2M) requestToken(ctx context.Context, started time.Time) (Credential, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	if len(p.settings.scopes) > 0 {
		form.Set("scope", strings.Join(p.settings.scopes, " "))
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return Credential{}, fmt.Errorf("authctx: oauth-m2m: building token request to %s: %w", p.tokenURL, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(url.QueryEscape(p.clientID), url.QueryEscape(p.clientSecret))

	resp, err := p.client.Do(req)
	if err != nil {
		return Credential{}, fmt.Errorf("authctx: oauth-m2m token request to %s for client %q failed: %w", p.tokenURL, p.clientID, err)
	}
	defer resp.Body.Close()

	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenResponseBytes))
	if err != nil {
		return Credential{}, fmt.Errorf("authctx: oauth-m2m token response from %s for client %q: reading body: %w", p.tokenURL, p.clientID, err)
	}

	var parsed tokenResponse
	parseErr := parseTokenResponse(resp.Header.Get("Content-Type"), body, &parsed)

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return Credential{}, &OAuthError{TokenURL: p.tokenURL, ClientID: p.clientID, StatusCode: resp.StatusCode, Code: p.sanitizeServerText(parsed.Error)}
	}
	if parseErr != nil {
		return Credential{}, fmt.Errorf("authctx: oauth-m2m token response from %s for client %q (HTTP %d) is not a valid token response: %w", p.tokenURL, p.clientID, resp.StatusCode, parseErr)
	}
	if parsed.Error != "" {
		return Credential{}, &OAuthError{TokenURL: p.tokenURL, ClientID: p.clientID, StatusCode: resp.StatusCode, Code: p.sanitizeServerText(parsed.Error)}
	}

	return p.credentialFrom(parsed, started, resp.StatusCode)
}

// credentialFrom checks a successful token response and turns it into a
// credential.
func (p *OAuthM2M) credentialFrom(parsed tokenResponse, started time.Time, status int) (Credential, error) {
	if parsed.AccessToken == "" {
		return Credential{}, fmt.Errorf("authctx: oauth-m2m token response from %s for client %q (HTTP %d) has no access_token", p.tokenURL, p.clientID, status)
	}
	if parsed.TokenType != "" && !strings.EqualFold(parsed.TokenType, "bearer") {
		return Credential{}, fmt.Errorf("authctx: oauth-m2m token response from %s for client %q has token_type %q; only bearer tokens are supported", p.tokenURL, p.clientID, p.sanitizeServerText(parsed.TokenType))
	}

	seconds, err := parseExpiresIn(parsed.ExpiresIn)
	if err != nil {
		return Credential{}, fmt.Errorf("authctx: oauth-m2m token response from %s for client %q: %w", p.tokenURL, p.clientID, err)
	}

	credential := Credential{Token: parsed.AccessToken, Method: MethodOAuthM2M, Subject: p.clientID, Host: p.host}
	if seconds > 0 {
		credential.Expiry = started.Add(time.Duration(seconds) * time.Second)
	}
	return credential, nil
}

// parseTokenResponse decodes a JSON body, or a form-encoded one as some
// servers send and golang.org/x/oauth2 accepts. Decoding errors never quote
// the body.
func parseTokenResponse(contentType string, body []byte, into *tokenResponse) error {
	mediaType, _, _ := mime.ParseMediaType(contentType)
	if mediaType == "application/x-www-form-urlencoded" || mediaType == "text/plain" {
		values, err := url.ParseQuery(string(body))
		if err != nil {
			return errors.New("invalid form-encoded body")
		}
		into.AccessToken = values.Get("access_token")
		into.TokenType = values.Get("token_type")
		into.Error = values.Get("error")
		if v := values.Get("expires_in"); v != "" {
			into.ExpiresIn = json.RawMessage(v)
		}
		return nil
	}

	if err := json.Unmarshal(body, into); err != nil {
		return fmt.Errorf("invalid JSON body (%d bytes)", len(body))
	}
	return nil
}

// parseExpiresIn reads expires_in, a number of seconds that some servers send
// as a string. It returns 0 when the field is absent.
func parseExpiresIn(raw json.RawMessage) (int64, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}

	text := strings.Trim(string(raw), `"`)
	var seconds json.Number = json.Number(text)
	value, err := seconds.Int64()
	if err != nil || value < 0 || value > maxExpiresInSeconds {
		return 0, fmt.Errorf("invalid expires_in (%d bytes); expected a number of seconds from 0 to %d", len(text), maxExpiresInSeconds)
	}
	return value, nil
}

// sanitizeServerText returns a short word the token endpoint sent, such as an
// OAuth error code or a token type, in a form safe for errors and logs. Text
// longer than 64 bytes, or with characters other than letters, digits, "_",
// "." and "-", becomes "invalid". Text that contains the client secret
// becomes "redacted", so a server that echoes the request cannot put the
// secret into a log.
func (p *OAuthM2M) sanitizeServerText(text string) string {
	if len(text) > 64 {
		return "invalid"
	}
	for _, r := range text {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-') {
			return "invalid"
		}
	}
	if strings.Contains(text, p.clientSecret) {
		return "redacted"
	}
	return text
}
