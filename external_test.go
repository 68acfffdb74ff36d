package httpmeter_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/httpmeter/httpmeter"
	"github.com/httpmeter/httpmeter/authctx"
	"github.com/httpmeter/httpmeter/product"
	"github.com/httpmeter/httpmeter/transport"
	"github.com/httpmeter/httpmeter/usage"
)

const chatJSON = `{"id":"c1","object":"chat.completion","model":"gpt-4o","usage":{"prompt_tokens":3,"completion_tokens":5,"total_tokens":8}}`

// eventRecorder is a usage.Recorder that stores every event.
type eventRecorder struct {
	mu     sync.Mutex
	events []usage.Event
}

func (r *eventRecorder) Record(e usage.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *eventRecorder) all() []usage.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]usage.Event(nil), r.events...)
}

// idleCounter is a base RoundTripper that counts CloseIdleConnections
// calls and returns a chat completion for every request.
type idleCounter struct {
	closeIdle atomic.Int32
}

func (c *idleCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(chatJSON)), Request: req}, nil
}

func (c *idleCounter) CloseIdleConnections() { c.closeIdle.Add(1) }

// chatServerRecorder is a loopback server that returns a chat completion and
// stores the Authorization and User-Agent of the last request it received.
type chatServerRecorder struct {
	*httptest.Server
	mu            sync.Mutex
	authorization []string
	userAgent     string
}

func newChatServerRecorder(t *testing.T) *chatServerRecorder {
	t.Helper()
	s := &chatServerRecorder{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.authorization = r.Header.Values("Authorization")
		s.userAgent = r.Header.Get("User-Agent")
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, chatJSON)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *chatServerRecorder) last() (authorization []string, userAgent string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.authorization, s.userAgent
}

func newTestApp(t *testing.T) product.App {
	t.Helper()
	app, err := product.NewApp("acme", "0.1.0")
	require.NoError(t, err)
	return app
}

// sendThrough sends one request through client and reads the whole body.
func sendThrough(t *testing.T, client *http.Client, ctx context.Context, url string, header http.Header) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader("{}"))
	require.NoError(t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	require.NoError(t, err)
	_, err = io.Copy(io.Discard, resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
}

func TestNewIgnoresLaterConfigChanges(t *testing.T) {
	srv := newChatServerRecorder(t)
	cfg := httpmeter.Config{
		App:            newTestApp(t),
		AllowedOrigins: []string{srv.URL},
		BearerOptions:  []transport.BearerOption{nil},
	}
	stack, err := httpmeter.New(srv.Client().Transport, cfg)
	require.NoError(t, err)

	cfg.AllowedOrigins[0] = "https://other.example"
	cfg.BearerOptions[0] = transport.ReplaceAuthorization()

	client := &http.Client{Transport: stack}
	ctx := authctx.NewContext(context.Background(), authctx.Credential{Token: "tok-user"})
	sendThrough(t, client, ctx, srv.URL+"/v1/chat/completions", http.Header{"Authorization": {"Basic Y2FsbGVy"}})
	authorization, _ := srv.last()
	assert.Equal(t, []string{"Basic Y2FsbGVy"}, authorization, "a later ReplaceAuthorization took effect")

	sendThrough(t, client, ctx, srv.URL+"/v1/chat/completions", nil)
	authorization, _ = srv.last()
	assert.Equal(t, []string{"Bearer tok-user"}, authorization, "a later change of AllowedOrigins took effect")
}

func TestNewRejectsInvalidConfig(t *testing.T) {
	app := newTestApp(t)
	cases := []struct {
		name   string
		cfg    httpmeter.Config
		hidden string // text that the error must not contain
	}{
		{name: "zero App", cfg: httpmeter.Config{AllowedOrigins: []string{"https://a.example"}}},
		{name: "Provider without origins", cfg: httpmeter.Config{App: app, Provider: authctx.Static(authctx.Credential{Token: "tok-static"})}, hidden: "tok-static"},
		{name: "origin with password", cfg: httpmeter.Config{App: app, AllowedOrigins: []string{"https://user:pw-SECRET@a.example"}}, hidden: "pw-SECRET"},
		{name: "origin with password and bad escape", cfg: httpmeter.Config{App: app, AllowedOrigins: []string{"https://user:pw-SECRET%zz@a.example"}}, hidden: "pw-SECRET"},
		{name: "origin with password and bad port", cfg: httpmeter.Config{App: app, AllowedOrigins: []string{"https://user:pw-SECRET@a.example:x"}}, hidden: "pw-SECRET"},
		{name: "origin with path", cfg: httpmeter.Config{App: app, AllowedOrigins: []string{"https://a.example/api"}}},
		{name: "origin without scheme", cfg: httpmeter.Config{App: app, AllowedOrigins: []string{"a.example"}}},
		{name: "origin with ftp scheme", cfg: httpmeter.Config{App: app, AllowedOrigins: []string{"ftp://a.example"}}},
		{name: "origin with wildcard", cfg: httpmeter.Config{App: app, AllowedOrigins: []string{"https://*.example"}}},
		{name: "origin with port zero", cfg: httpmeter.Config{App: app, AllowedOrigins: []string{"https://a.example:0"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stack http.RoundTripper
			var err error
			require.NotPanics(t, func() { stack, err = httpmeter.New(nil, tc.cfg) })
			require.Error(t, err)
			assert.Nil(t, stack)
			assert.True(t, strings.HasPrefix(err.Error(), "httpmeter: "), "error without the package prefix: %v", err)
			if tc.hidden != "" {
				assert.NotContains(t, err.Error(), tc.hidden)
			}
		})
	}
}

func TestNewTypedNilProvider(t *testing.T) {
	var provider *authctx.EnvProvider
	stack, err := httpmeter.New(&idleCounter{}, httpmeter.Config{
		App:            newTestApp(t),
		AllowedOrigins: []string{"https://a.example"},
		Provider:       provider,
	})
	if err != nil {
		return
	}

	req, err := http.NewRequest(http.MethodGet, "https://a.example/v1/chat/completions", nil)
	require.NoError(t, err)
	var resp *http.Response
	require.NotPanics(t, func() { resp, err = stack.RoundTrip(req) }, "a typed nil Config.Provider must give an error, not a panic")
	if resp != nil {
		_ = resp.Body.Close()
	}
	assert.Error(t, err)
}

func TestNewForwardsCloseIdleConnectionsToBase(t *testing.T) {
	configs := map[string]httpmeter.Config{
		"UserAgent only": {App: newTestApp(t)},
		"all layers":     {App: newTestApp(t), AllowedOrigins: []string{"https://a.example"}, Recorder: &eventRecorder{}},
	}
	for name, cfg := range configs {
		t.Run(name, func(t *testing.T) {
			base := &idleCounter{}
			stack, err := httpmeter.New(base, cfg)
			require.NoError(t, err)

			client := &http.Client{Transport: stack}
			client.CloseIdleConnections()
			assert.Equal(t, int32(1), base.closeIdle.Load())
		})
	}
}

func TestNewOptionsOverrideFields(t *testing.T) {
	srv := newChatServerRecorder(t)
	otherApp, err := product.NewApp("other", "2.0.0")
	require.NoError(t, err)
	events := &eventRecorder{}
	stack, err := httpmeter.New(srv.Client().Transport, httpmeter.Config{
		App:                newTestApp(t),
		Recorder:           events,
		UserAgentMergeRule: transport.MergeAppend,
		UserAgentOptions:   []transport.UserAgentOption{transport.WithMergeRule(transport.MergeReplace)},
		UsageOptions:       []transport.UsageOption{transport.WithApp(otherApp)},
	})
	require.NoError(t, err)

	sendThrough(t, &http.Client{Transport: stack}, context.Background(), srv.URL+"/v1/chat/completions", http.Header{"User-Agent": {"sdk/1.0"}})

	_, userAgent := srv.last()
	assert.Equal(t, "acme/0.1.0", userAgent)
	got := events.all()
	require.Len(t, got, 1)
	assert.Equal(t, "other/2.0.0", got[0].Product.UserAgent())
}

func TestNewInvalidMergeRule(t *testing.T) {
	srv := newChatServerRecorder(t)
	stack, err := httpmeter.New(srv.Client().Transport, httpmeter.Config{App: newTestApp(t), UserAgentMergeRule: transport.MergeRule(42)})
	require.NoError(t, err)

	sendThrough(t, &http.Client{Transport: stack}, context.Background(), srv.URL, http.Header{"User-Agent": {"sdk/1.0"}})
	_, userAgent := srv.last()
	assert.Equal(t, "sdk/1.0 acme/0.1.0", userAgent)
}

func TestNewEventCredential(t *testing.T) {
	allowed := newChatServerRecorder(t)
	other := newChatServerRecorder(t)
	events := &eventRecorder{}
	stack, err := httpmeter.New(allowed.Client().Transport, httpmeter.Config{
		App:            newTestApp(t),
		AllowedOrigins: []string{allowed.URL},
		Recorder:       events,
	})
	require.NoError(t, err)
	client := &http.Client{Transport: stack}
	ctx := authctx.NewContext(context.Background(), authctx.Credential{Token: "tok-user", Subject: "user@example.com"})

	sendThrough(t, client, ctx, allowed.URL+"/v1/chat/completions", nil)
	sendThrough(t, client, ctx, allowed.URL+"/v1/chat/completions", http.Header{"Authorization": {"Bearer caller-own"}})
	sendThrough(t, client, ctx, other.URL+"/v1/chat/completions", nil)

	otherAuthorization, _ := other.last()
	assert.Empty(t, otherAuthorization, "the token went to an origin that is not allowed")

	got := events.all()
	require.Len(t, got, 3)
	assert.Equal(t, "tok-user", got[0].Credential.Token, "the credential that authenticated the request")
	assert.True(t, got[1].Credential.IsZero(), "the caller's own Authorization: no credential expected")
	assert.True(t, got[2].Credential.IsZero(), "an origin that is not allowed: no credential expected")
}

func TestNewConcurrentUsers(t *testing.T) {
	var mismatches atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok-"+r.URL.Query().Get("user") {
			mismatches.Add(1)
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, chatJSON)
	}))
	t.Cleanup(srv.Close)

	events := &eventRecorder{}
	stack, err := httpmeter.New(srv.Client().Transport, httpmeter.Config{
		App:            newTestApp(t),
		AllowedOrigins: []string{srv.URL},
		Recorder:       events,
	})
	require.NoError(t, err)
	client := &http.Client{Transport: stack}

	const users, requests = 16, 20
	var wg sync.WaitGroup
	for u := range users {
		wg.Go(func() {
			ctx := authctx.NewContext(context.Background(), authctx.Credential{Token: fmt.Sprintf("tok-%d", u), Subject: fmt.Sprint(u)})
			for range requests {
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/v1/chat/completions?user=%d", srv.URL, u), nil)
				if !assert.NoError(t, err) {
					return
				}
				resp, err := client.Do(req)
				if !assert.NoError(t, err) {
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
			}
		})
	}
	wg.Wait()
	client.CloseIdleConnections()

	assert.Zero(t, mismatches.Load(), "requests that carried another user's token")
	got := events.all()
	require.Len(t, got, users*requests)
	ids := make(map[string]bool, len(got))
	for _, e := range got {
		assert.Equal(t, "tok-"+e.Credential.Subject, e.Credential.Token)
		assert.False(t, ids[e.ID], "event ID %s repeated", e.ID)
		ids[e.ID] = true
	}
}
