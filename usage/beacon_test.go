package usage

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/httpmeter/httpmeter/authctx"
	"github.com/httpmeter/httpmeter/product"
)

func TestBeaconUserAgentRoundTrip(t *testing.T) {
	cases := []struct {
		name string
		ua   BeaconUserAgent
	}{
		{"plain", BeaconUserAgent{App: "acme", Version: "0.1.0", Feature: "chat", Model: "gpt-4o", InputTokens: 12, OutputTokens: 3}},
		{"underscore feature", BeaconUserAgent{App: "acme", Version: "0.1.0", Feature: "crew_gen_v2", Model: "m", InputTokens: 1, OutputTokens: 2}},
		{"slash model", BeaconUserAgent{App: "acme", Version: "0.1.0", Feature: "chat", Model: "databricks/meta-llama-3.1-70b"}},
		{"spaces", BeaconUserAgent{App: "acme", Version: "0.1.0", Feature: "chat", Model: "my model v1"}},
		{"CR LF", BeaconUserAgent{App: "acme", Version: "0.1.0", Feature: "chat", Model: "evil\r\nX-Injected: 1"}},
		{"non-ASCII", BeaconUserAgent{App: "acme", Version: "0.1.0", Feature: "chat", Model: "modèle-日本"}},
		{"percent and equals", BeaconUserAgent{App: "acme", Version: "0.1.0", Feature: "chat", Model: "a%2Fb=c"}},
		{"empty feature and model", BeaconUserAgent{App: "acme", Version: "1.0.0-rc.1+build.5"}},
		{"placeholder-like values", BeaconUserAgent{App: "acme", Version: "0.1.0", Feature: "-", Model: "-"}},
		{"large counts", BeaconUserAgent{App: "acme", Version: "0.1.0", Feature: "x", Model: "m", InputTokens: 1<<63 - 1, OutputTokens: 0}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			header := tc.ua.String()

			for i := 0; i < len(header); i++ {
				c := header[i]
				assert.True(t, isBeaconSafe(c) || c == '/' || c == '=' || c == '%', "byte %q at %d of %q", c, i, header)
			}
			assert.Equal(t, 6, strings.Count(header, "/")+1, "fields of %q", header)

			parsed, err := ParseBeaconUserAgent(header)
			require.NoError(t, err)
			assert.Equal(t, tc.ua, parsed)
		})
	}
}

func TestBeaconUserAgentFormat(t *testing.T) {
	ua := BeaconUserAgent{App: "acme", Version: "0.1.0", Feature: "crew_gen", Model: "meta/llama 3", InputTokens: 7, OutputTokens: 9}
	assert.Equal(t, "acme_telemetry/0.1.0/crew_gen/model=meta%2Fllama%203/input_tokens=7/output_tokens=9", ua.String())

	empty := BeaconUserAgent{App: "acme", Version: "0.1.0"}
	assert.Equal(t, "acme_telemetry/0.1.0/-/model=-/input_tokens=0/output_tokens=0", empty.String())
}

func TestParseBeaconUserAgentRejectsInvalid(t *testing.T) {
	cases := map[string]string{
		"too few fields":     "acme_telemetry/0.1.0/chat/model=m/input_tokens=1",
		"no telemetry":       "acme/0.1.0/chat/model=m/input_tokens=1/output_tokens=2",
		"no model prefix":    "acme_telemetry/0.1.0/chat/m/input_tokens=1/output_tokens=2",
		"bad count":          "acme_telemetry/0.1.0/chat/model=m/input_tokens=x/output_tokens=2",
		"bad output prefix":  "acme_telemetry/0.1.0/chat/model=m/input_tokens=1/out=2",
		"truncated escape":   "acme_telemetry/0.1.0/chat/model=m%2/input_tokens=1/output_tokens=2",
		"invalid escape":     "acme_telemetry/0.1.0/chat/model=m%zz/input_tokens=1/output_tokens=2",
		"unescaped space":    "acme_telemetry/0.1.0/chat/model=m x/input_tokens=1/output_tokens=2",
		"signed escape":      "acme_telemetry/0.1.0/chat/model=m%+1/input_tokens=1/output_tokens=2",
		"extra slash in app": "a/b_telemetry/0.1.0/chat/model=m/input_tokens=1/output_tokens=2",
	}
	for name, header := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ParseBeaconUserAgent(header)
			assert.Error(t, err)
		})
	}
}

// beaconRequest is what a fake workspace saw of one beacon.
type beaconRequest struct {
	Method        string
	Path          string
	Authorization string
	UserAgent     BeaconUserAgent
}

// fakeWorkspace is a loopback server that records beacons. A non-nil respond
// runs first and, when it returns true, has written the whole response and the
// beacon is not recorded. Otherwise the server records it and returns 200.
type fakeWorkspace struct {
	*httptest.Server
	mu       sync.Mutex
	requests []beaconRequest
	respond  func(w http.ResponseWriter, r *http.Request) bool
	t        testing.TB
}

func newFakeWorkspace(t testing.TB, respond func(w http.ResponseWriter, r *http.Request) bool) *fakeWorkspace {
	fw := &fakeWorkspace{respond: respond, t: t}
	fw.Server = httptest.NewServer(http.HandlerFunc(fw.serve))
	t.Cleanup(fw.Close)
	return fw
}

func (fw *fakeWorkspace) serve(w http.ResponseWriter, r *http.Request) {
	if fw.respond != nil && fw.respond(w, r) {
		return
	}

	ua, err := ParseBeaconUserAgent(r.UserAgent())
	assert.NoError(fw.t, err)
	fw.mu.Lock()
	fw.requests = append(fw.requests, beaconRequest{
		Method:        r.Method,
		Path:          r.URL.Path,
		Authorization: r.Header.Get("Authorization"),
		UserAgent:     ua,
	})
	fw.mu.Unlock()
	_, _ = w.Write([]byte(`{"endpoints":[]}`))
}

func (fw *fakeWorkspace) seen() []beaconRequest {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	return append([]beaconRequest(nil), fw.requests...)
}

func TestBeaconUsesEventCredentialAndWorkspace(t *testing.T) {
	workspaceA := newFakeWorkspace(t, nil)
	workspaceB := newFakeWorkspace(t, nil)
	fallback := newFakeWorkspace(t, nil)
	sink := NewBeaconSink(WithBeaconWorkspace(fallback.URL), WithBeaconHTTPClient(workspaceA.Client()))

	eventA := testEvent(t, "a", 1, "gpt-4o", 10, 2)
	eventA.Credential.Host = workspaceA.URL
	eventA.Credential.Token = "token-a"
	eventB := testEvent(t, "b", 2, "claude", 20, 4)
	eventB.Credential.Host = workspaceB.URL
	eventB.Credential.Token = "token-b"
	eventC := testEvent(t, "c", 3, "llama", 30, 6)
	eventC.Credential.Host = ""
	eventC.Credential.Token = "token-c"
	eventC.Host = workspaceB.Listener.Addr().String()

	require.NoError(t, sink.Send(context.Background(), []Event{eventA, eventB, eventC}))

	seenA, seenB, seenFallback := workspaceA.seen(), workspaceB.seen(), fallback.seen()
	require.Len(t, seenA, 1)
	require.Len(t, seenB, 1)
	require.Len(t, seenFallback, 1)

	assert.Equal(t, "Bearer token-a", seenA[0].Authorization)
	assert.Equal(t, "Bearer token-b", seenB[0].Authorization)
	assert.Equal(t, "Bearer token-c", seenFallback[0].Authorization)
	assert.Equal(t, http.MethodGet, seenA[0].Method)
	assert.Equal(t, "/api/2.0/serving-endpoints", seenA[0].Path)

	assert.Equal(t, BeaconUserAgent{App: "acme", Version: "0.1.0", Feature: "crew_gen", Model: "gpt-4o", InputTokens: 10, OutputTokens: 2}, seenA[0].UserAgent)
	assert.Equal(t, "claude", seenB[0].UserAgent.Model)
	assert.Equal(t, int64(30), seenFallback[0].UserAgent.InputTokens)
	assert.Equal(t, int64(3), sink.Stats().Sent)
}

func TestBeaconSkipsEventsItCannotAttribute(t *testing.T) {
	workspace := newFakeWorkspace(t, nil)
	sink := NewBeaconSink(WithBeaconHTTPClient(workspace.Client()))

	missing := testEvent(t, "missing", 1, "m", 0, 0)
	missing.Credential.Host = workspace.URL
	missing.Source = SourceMissing

	noToken := testEvent(t, "no-token", 1, "m", 1, 1)
	noToken.Credential = authctx.Credential{Host: workspace.URL}

	noWorkspace := testEvent(t, "no-workspace", 1, "m", 1, 1)
	noWorkspace.Credential.Host = ""

	badWorkspace := testEvent(t, "bad-workspace", 1, "m", 1, 1)
	badWorkspace.Credential.Host = "ftp://workspace.example.com"

	require.NoError(t, sink.Send(context.Background(), []Event{missing, noToken, noWorkspace, badWorkspace}))
	assert.Empty(t, workspace.seen())

	st := sink.Stats()
	assert.Equal(t, int64(1), st.SkippedNoUsage)
	assert.Equal(t, int64(1), st.SkippedNoCredential)
	assert.Equal(t, int64(2), st.SkippedNoWorkspace)
	assert.Zero(t, st.Sent)
}

func TestBeaconPlaceholderForMissingProduct(t *testing.T) {
	workspace := newFakeWorkspace(t, nil)
	app, err := product.NewApp("partner", "2.0.0")
	require.NoError(t, err)

	e := testEvent(t, "a", 1, "m", 1, 1)
	e.Credential.Host = workspace.URL
	e.Product = product.Product{}

	require.NoError(t, NewBeaconSink(WithBeaconHTTPClient(workspace.Client())).Send(context.Background(), []Event{e}))
	require.NoError(t, NewBeaconSink(WithBeaconHTTPClient(workspace.Client()), WithBeaconApp(app)).Send(context.Background(), []Event{e}))

	seen := workspace.seen()
	require.Len(t, seen, 2)
	assert.Equal(t, "unknown", seen[0].UserAgent.App)
	assert.Equal(t, "0.0.0", seen[0].UserAgent.Version)
	assert.Equal(t, "partner", seen[1].UserAgent.App)
	assert.Equal(t, "2.0.0", seen[1].UserAgent.Version)
	assert.Empty(t, seen[1].UserAgent.Feature)
}

// meteringProbe records whether each request it forwards had metering
// disabled in its context.
type meteringProbe struct {
	next     http.RoundTripper
	disabled atomic.Int64
	enabled  atomic.Int64
}

func (p *meteringProbe) RoundTrip(req *http.Request) (*http.Response, error) {
	if MeteringDisabled(req.Context()) {
		p.disabled.Add(1)
	} else {
		p.enabled.Add(1)
	}
	return p.next.RoundTrip(req)
}

func TestBeaconRequestIsNotMetered(t *testing.T) {
	workspace := newFakeWorkspace(t, nil)
	probe := &meteringProbe{next: workspace.Client().Transport}
	sink := NewBeaconSink(WithBeaconHTTPClient(&http.Client{Transport: probe}))

	e := testEvent(t, "a", 1, "m", 1, 1)
	e.Credential.Host = workspace.URL
	require.NoError(t, sink.Send(context.Background(), []Event{e}))

	assert.Equal(t, int64(1), probe.disabled.Load())
	assert.Zero(t, probe.enabled.Load())
}

func TestBeaconClassifiesStatusCodes(t *testing.T) {
	cases := []struct {
		status     int
		retryAfter string
		permanent  bool
		after      time.Duration
	}{
		{http.StatusInternalServerError, "", false, 0},
		{http.StatusBadGateway, "", false, 0},
		{http.StatusRequestTimeout, "", false, 0},
		{http.StatusTooManyRequests, "7", false, 7 * time.Second},
		{http.StatusTooManyRequests, "", false, time.Second},
		{http.StatusTooManyRequests, "999999999999", false, 24 * time.Hour},
		{http.StatusUnauthorized, "", true, 0},
		{http.StatusForbidden, "", true, 0},
		{http.StatusNotFound, "", true, 0},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%d %s", tc.status, tc.retryAfter), func(t *testing.T) {
			workspace := newFakeWorkspace(t, func(w http.ResponseWriter, r *http.Request) bool {
				if tc.retryAfter != "" {
					w.Header().Set("Retry-After", tc.retryAfter)
				}
				w.WriteHeader(tc.status)
				return true
			})
			e := testEvent(t, "a", 1, "m", 1, 1)
			e.Credential.Host = workspace.URL

			err := NewBeaconSink(WithBeaconHTTPClient(workspace.Client())).Send(context.Background(), []Event{e})
			require.Error(t, err)
			assert.Equal(t, tc.permanent, IsPermanent(err))
			assert.NotContains(t, err.Error(), "token-1")

			retryAfter, ok := err.(*RetryAfterError)
			assert.Equal(t, tc.after != 0, ok)
			if ok {
				assert.Equal(t, tc.after, retryAfter.After)
			}
		})
	}
}

func TestBeaconReportsPartialDelivery(t *testing.T) {
	var calls atomic.Int64
	workspace := newFakeWorkspace(t, func(w http.ResponseWriter, r *http.Request) bool {
		if calls.Add(1) == 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}
		return false
	})
	events := make([]Event, 4)
	for i := range events {
		events[i] = testEvent(t, fmt.Sprint(i), 1, "m", 1, 1)
		events[i].Credential.Host = workspace.URL
	}

	err := NewBeaconSink(WithBeaconHTTPClient(workspace.Client())).Send(context.Background(), events)
	partial, ok := err.(*PartialError)
	require.True(t, ok, "error %v is not a *PartialError", err)
	assert.Equal(t, 2, partial.Delivered)
	assert.False(t, IsPermanent(err))
}

func TestBeaconDrainsBoundedBody(t *testing.T) {
	var written atomic.Int64
	workspace := newFakeWorkspace(t, func(w http.ResponseWriter, r *http.Request) bool {
		chunk := make([]byte, 32<<10)
		for range 1024 {
			n, err := w.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				break
			}
		}
		return true
	})
	e := testEvent(t, "a", 1, "m", 1, 1)
	e.Credential.Host = workspace.URL

	require.NoError(t, NewBeaconSink(WithBeaconHTTPClient(workspace.Client())).Send(context.Background(), []Event{e}))
	require.Eventually(t, func() bool {
		before := written.Load()
		time.Sleep(20 * time.Millisecond)
		return written.Load() == before
	}, 5*time.Second, time.Millisecond)
	assert.Less(t, written.Load(), int64(16<<20), "the server wrote the whole 32 MiB body, so the sink read it all")
}

func TestBeaconDefaultClientDoesNotFollowRedirects(t *testing.T) {
	elsewhere := newFakeWorkspace(t, nil)
	workspace := newFakeWorkspace(t, func(w http.ResponseWriter, r *http.Request) bool {
		http.Redirect(w, r, elsewhere.URL+"/api/2.0/serving-endpoints", http.StatusFound)
		return true
	})
	sink := NewBeaconSink()
	defer sink.CloseIdleConnections()

	e := testEvent(t, "a", 1, "m", 1, 1)
	e.Credential.Host = workspace.URL
	err := sink.Send(context.Background(), []Event{e})

	require.Error(t, err)
	assert.True(t, IsPermanent(err))
	assert.Empty(t, elsewhere.seen())
}

func TestBeaconNeverMixesUsers(t *testing.T) {
	workspace := newFakeWorkspace(t, nil)
	beacon := NewBeaconSink(WithBeaconHTTPClient(workspace.Client()))
	s := NewSender(beacon, WithWorkers(4), WithBatchSize(8), WithBatchInterval(10*time.Millisecond))

	const users, perUser = 200, 5
	var wg sync.WaitGroup
	for u := range users {
		wg.Go(func() {
			for i := range perUser {
				e := testEvent(t, fmt.Sprintf("u%d-%d", u, i), u, fmt.Sprintf("model-of-user-%d", u), int64(u+1), 1)
				e.Credential.Host = workspace.URL
				s.Record(e)
			}
		})
	}
	wg.Wait()
	closeSender(t, s)

	seen := workspace.seen()
	inputPerUser := map[int]int64{}
	for _, r := range seen {
		var user int
		_, err := fmt.Sscanf(r.UserAgent.Model, "model-of-user-%d", &user)
		require.NoError(t, err)
		assert.Equal(t, fmt.Sprintf("Bearer token-%d", user), r.Authorization, "beacon for user %d carried another token", user)
		inputPerUser[user] += r.UserAgent.InputTokens
	}
	require.Len(t, inputPerUser, users)
	for u := range users {
		assert.Equal(t, int64((u+1)*perUser), inputPerUser[u], "input tokens of user %d", u)
	}
	assert.Equal(t, int64(users*perUser), s.Stats().Sent)
}

func TestBeaconLogsWithoutToken(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	workspace := newFakeWorkspace(t, func(w http.ResponseWriter, r *http.Request) bool {
		w.WriteHeader(http.StatusUnauthorized)
		return true
	})
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()

	rejected := testEvent(t, "rejected", 1, "m", 1, 1)
	rejected.Credential.Host = workspace.URL
	unreachable := testEvent(t, "unreachable", 2, "m", 1, 1)
	unreachable.Credential.Host = downURL
	invalid := testEvent(t, "invalid", 3, "m", 1, 1)
	invalid.Credential.Host = "ftp://workspace.example.com"

	sink := NewBeaconSink(WithBeaconHTTPClient(workspace.Client()), WithBeaconLogger(logger))
	for _, e := range []Event{rejected, unreachable, invalid} {
		_ = sink.Send(context.Background(), []Event{e})
	}

	text := logs.String()
	assert.Contains(t, text, "usage: beacon rejected")
	assert.Contains(t, text, "usage: beacon request failed")
	assert.Contains(t, text, "usage: beacon skipped")
	for _, token := range []string{"token-1", "token-2", "token-3"} {
		assert.NotContains(t, text, token)
	}
	assert.Equal(t, int64(2), sink.Stats().Failed)
}

func TestBeaconWorkspaceErrorsHideUserInfo(t *testing.T) {
	cases := []struct {
		workspace string
		secrets   []string
	}{
		{"ftp://user:hunter2@ws", []string{"hunter2"}},
		{"https://user:hun ter2@ws.example", []string{"hun", "ter2"}},
		{"https://user:hun#ter2@ws.example", []string{"hun", "ter2"}},
		{"https://user:hun/ter2@ws.example", []string{"hun", "ter2"}},
		{"https://user:pa%zzss@ws.example", []string{"pa%", "%zz", "zzss"}},
		{"https://dapi0123456789@ws.example", []string{"dapi0123456789"}},
		{"user:hunter2@ws.example/some/path", []string{"hunter2"}},
		{"user:hun ter2@ws.example", []string{"hun", "ter2"}},
	}

	var logs bytes.Buffer
	sink := NewBeaconSink(WithBeaconLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	for _, tc := range cases {
		t.Run(tc.workspace, func(t *testing.T) {
			_, err := beaconEndpoint(tc.workspace)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "usage: beacon: workspace URL")
			for _, secret := range tc.secrets {
				assert.NotContains(t, err.Error(), secret)
			}

			logs.Reset()
			e := testEvent(t, "a", 1, "m", 1, 1)
			e.Credential.Host = tc.workspace
			require.NoError(t, sink.Send(context.Background(), []Event{e}))
			assert.Contains(t, logs.String(), "usage: beacon skipped")
			for _, secret := range tc.secrets {
				assert.NotContains(t, logs.String(), secret)
			}
		})
	}
	assert.Equal(t, int64(len(cases)), sink.Stats().SkippedNoWorkspace)
}

func TestBeaconWorkspaceKeepsOnlyOrigin(t *testing.T) {
	endpoints := map[string]string{
		"https://ws.example":           "https://ws.example/api/2.0/serving-endpoints",
		"https://ws.example/":          "https://ws.example/api/2.0/serving-endpoints",
		"ws.example:8443":              "https://ws.example:8443/api/2.0/serving-endpoints",
		"http://127.0.0.1:8080/":       "http://127.0.0.1:8080/api/2.0/serving-endpoints",
		"https://[::1]:8443":           "https://[::1]:8443/api/2.0/serving-endpoints",
		"https://ws.example/some/path": "https://ws.example/api/2.0/serving-endpoints",
		"https://ws.example/some/path/api/2.0/serving-endpoints": "https://ws.example/api/2.0/serving-endpoints",
		"https://adb-1.azuredatabricks.net/?o=123":               "https://adb-1.azuredatabricks.net/api/2.0/serving-endpoints",
		"https://ws.example#workspace":                           "https://ws.example/api/2.0/serving-endpoints",
	}
	for workspace, want := range endpoints {
		t.Run(workspace, func(t *testing.T) {
			endpoint, err := beaconEndpoint(workspace)
			require.NoError(t, err)
			assert.Equal(t, want, endpoint)
		})
	}
}
