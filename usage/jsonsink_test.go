package usage

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// collector is a loopback JSON batch endpoint that records each request. A
// non-nil respond then runs with the attempt number and, when it returns
// true, has written the whole response. Otherwise the server returns 202.
type collector struct {
	*httptest.Server
	mu      sync.Mutex
	keys    []string
	bodies  [][]byte
	headers []http.Header
	respond func(w http.ResponseWriter, attempt int) bool
}

func newCollector(t testing.TB, respond func(w http.ResponseWriter, attempt int) bool) *collector {
	c := &collector{respond: respond}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		assert.NoError(t, err)

		c.mu.Lock()
		attempt := len(c.keys)
		c.keys = append(c.keys, r.Header.Get("Idempotency-Key"))
		c.bodies = append(c.bodies, body)
		c.headers = append(c.headers, r.Header.Clone())
		c.mu.Unlock()

		if c.respond != nil && c.respond(w, attempt) {
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(c.Close)
	return c
}

func (c *collector) snapshot() (keys []string, bodies [][]byte, headers []http.Header) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.keys...), append([][]byte(nil), c.bodies...), append([]http.Header(nil), c.headers...)
}

func newTestJSONSink(t testing.TB, c *collector, opts ...JSONOption) *JSONSink {
	t.Helper()
	opts = append([]JSONOption{WithJSONHTTPClient(c.Client()), WithJSONRetry(3, time.Millisecond, 5*time.Millisecond)}, opts...)
	sink, err := NewJSONSink(c.URL+"/v1/usage", opts...)
	require.NoError(t, err)
	return sink
}

func TestJSONSinkPostsBatch(t *testing.T) {
	c := newCollector(t, nil)
	sink := newTestJSONSink(t, c, WithJSONHeader("X-Collector-Key", "k1"))

	events := []Event{testEvent(t, "id-1", 1, "gpt-4o", 10, 2), testEvent(t, "id-2", 1, "gpt-4o", 5, 1)}
	events[1].Usage.Raw = json.RawMessage(`{"prompt_tokens":5}`)
	require.NoError(t, sink.Send(context.Background(), events))

	keys, bodies, headers := c.snapshot()
	require.Len(t, bodies, 1)
	assert.Equal(t, IdempotencyKey(events), keys[0])
	assert.Equal(t, "application/json", headers[0].Get("Content-Type"))
	assert.Equal(t, "k1", headers[0].Get("X-Collector-Key"))
	assert.NotContains(t, string(bodies[0]), "token-1")

	var batch struct {
		Events []struct {
			ID        string          `json:"id"`
			Product   string          `json:"product"`
			Feature   string          `json:"feature"`
			Subject   string          `json:"subject"`
			Workspace string          `json:"workspace"`
			Model     string          `json:"model"`
			Source    string          `json:"source"`
			Count     int             `json:"count"`
			Usage     json.RawMessage `json:"usage"`
		} `json:"events"`
	}
	require.NoError(t, json.Unmarshal(bodies[0], &batch))
	require.Len(t, batch.Events, 2)
	assert.Equal(t, "id-1", batch.Events[0].ID)
	assert.Equal(t, "id-2", batch.Events[1].ID)
	assert.Equal(t, "acme_crew_gen/0.1.0", batch.Events[0].Product)
	assert.Equal(t, "crew_gen", batch.Events[0].Feature)
	assert.Equal(t, "user-1@example.com", batch.Events[0].Subject)
	assert.Equal(t, "https://workspace.example.com", batch.Events[0].Workspace)
	assert.Equal(t, "reported", batch.Events[0].Source)
	assert.Equal(t, 1, batch.Events[0].Count)

	var u Usage
	require.NoError(t, json.Unmarshal(batch.Events[1].Usage, &u))
	assert.Equal(t, int64(5), u.InputTokens)
	assert.JSONEq(t, `{"prompt_tokens":5}`, string(u.Raw))
}

func TestJSONSinkRetriesWithSameKey(t *testing.T) {
	c := newCollector(t, func(w http.ResponseWriter, attempt int) bool {
		if attempt < 2 {
			w.WriteHeader(http.StatusInternalServerError)
			return true
		}
		return false
	})
	sink := newTestJSONSink(t, c)

	events := []Event{testEvent(t, "id-1", 1, "m", 1, 1)}
	require.NoError(t, sink.Send(context.Background(), events))

	keys, bodies, _ := c.snapshot()
	require.Len(t, keys, 3)
	for i := range keys {
		assert.Equal(t, IdempotencyKey(events), keys[i])
		assert.Equal(t, bodies[0], bodies[i])
	}
}

func TestJSONSinkClampsRetryAfter(t *testing.T) {
	var mu sync.Mutex
	var times []time.Time
	c := newCollector(t, func(w http.ResponseWriter, attempt int) bool {
		mu.Lock()
		times = append(times, time.Now())
		mu.Unlock()
		if attempt == 0 {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusTooManyRequests)
			return true
		}
		return false
	})
	sink := newTestJSONSink(t, c, WithJSONMaxRetryAfter(100*time.Millisecond))

	require.NoError(t, sink.Send(context.Background(), []Event{testEvent(t, "id-1", 1, "m", 1, 1)}))

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, times, 2)
	wait := times[1].Sub(times[0])
	assert.GreaterOrEqual(t, wait, 90*time.Millisecond)
	assert.Less(t, wait, 2*time.Second)
}

func TestJSONSinkErrorClasses(t *testing.T) {
	cases := []struct {
		name      string
		status    int
		permanent bool
		after     bool
	}{
		{"bad request", http.StatusBadRequest, true, false},
		{"unauthorized", http.StatusUnauthorized, true, false},
		{"server error", http.StatusBadGateway, false, false},
		{"rate limited", http.StatusTooManyRequests, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newCollector(t, func(w http.ResponseWriter, _ int) bool {
				w.Header().Set("Retry-After", "0")
				w.WriteHeader(tc.status)
				return true
			})
			sink := newTestJSONSink(t, c, WithJSONRetry(1, time.Millisecond, time.Millisecond))

			err := sink.Send(context.Background(), []Event{testEvent(t, "id-1", 1, "m", 1, 1)})
			require.Error(t, err)
			assert.Equal(t, tc.permanent, IsPermanent(err))
			_, isRetryAfter := err.(*RetryAfterError)
			assert.Equal(t, tc.after, isRetryAfter)
		})
	}
}

func TestJSONSinkLogsWithoutSecrets(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	endpoint := down.URL + "/v1/usage?api_key=query-secret"
	down.Close()

	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	sink, err := NewJSONSink(endpoint,
		WithJSONRetry(2, time.Millisecond, time.Millisecond),
		WithJSONHeader("Authorization", "Bearer collector-secret"),
		WithJSONLogger(logger))
	require.NoError(t, err)
	defer sink.CloseIdleConnections()

	err = sink.Send(context.Background(), []Event{testEvent(t, "id-1", 1, "m", 1, 1)})
	require.Error(t, err)
	assert.False(t, IsPermanent(err))
	assert.NotContains(t, err.Error(), "query-secret")

	text := logs.String()
	assert.Contains(t, text, "go-retryablehttp: request failed")
	assert.Contains(t, text, "retrying request")
	assert.NotContains(t, text, "query-secret")
	assert.NotContains(t, text, "collector-secret")
	assert.NotContains(t, text, "token-1")
}

func TestJSONSinkRequestIsNotMetered(t *testing.T) {
	c := newCollector(t, nil)
	probe := &meteringProbe{next: c.Client().Transport}
	sink, err := NewJSONSink(c.URL, WithJSONHTTPClient(&http.Client{Transport: probe}))
	require.NoError(t, err)

	require.NoError(t, sink.Send(context.Background(), []Event{testEvent(t, "id-1", 1, "m", 1, 1)}))
	assert.Equal(t, int64(1), probe.disabled.Load())
	assert.Zero(t, probe.enabled.Load())
}

func TestNewJSONSinkRejectsInvalidURL(t *testing.T) {
	for _, endpoint := range []string{"", "collector.example.com/usage", "ftp://collector.example.com", "http://[::1"} {
		_, err := NewJSONSink(endpoint)
		assert.Error(t, err, "endpoint %q", endpoint)
	}
}

func TestIdempotencyKeyDependsOnIDs(t *testing.T) {
	a := []Event{{ID: "a"}, {ID: "b"}}
	assert.Equal(t, IdempotencyKey(a), IdempotencyKey([]Event{{ID: "a"}, {ID: "b"}}))
	assert.NotEqual(t, IdempotencyKey(a), IdempotencyKey([]Event{{ID: "ab"}}))
	assert.NotEqual(t, IdempotencyKey(a), IdempotencyKey([]Event{{ID: "b"}, {ID: "a"}}))
}

func TestJSONSinkHidesURLUserInfo(t *testing.T) {
	const user, password = "collector-token", "collector-password"

	down := httptest.NewServer(http.NotFoundHandler())
	downAddress := down.Listener.Addr().String()
	down.Close()
	limited := newCollector(t, func(w http.ResponseWriter, _ int) bool {
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(http.StatusTooManyRequests)
		return true
	})
	limitedAddress := limited.Listener.Addr().String()

	cases := map[string]struct {
		address string
		client  *http.Client
	}{
		"connection refused": {downAddress, nil},
		"rate limited":       {limitedAddress, limited.Client()},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var logs bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			sink, err := NewJSONSink("http://"+user+":"+password+"@"+tc.address+"/v1/usage",
				WithJSONHTTPClient(tc.client), WithJSONRetry(1, time.Millisecond, time.Millisecond), WithJSONLogger(logger))
			require.NoError(t, err)
			defer sink.CloseIdleConnections()

			err = sink.Send(context.Background(), []Event{testEvent(t, "id-1", 1, "m", 1, 1)})
			require.Error(t, err)
			assert.NotContains(t, err.Error(), user)
			assert.NotContains(t, err.Error(), password)
			assert.Contains(t, err.Error(), "http://xxxxx@"+tc.address+"/v1/usage")

			text := logs.String()
			assert.Contains(t, text, "retrying request")
			assert.NotContains(t, text, user)
			assert.NotContains(t, text, password)
			assert.Contains(t, text, "xxxxx@"+tc.address)
		})
	}
}

func TestNewJSONSinkErrorsHideUserInfo(t *testing.T) {
	cases := []struct {
		endpoint string
		secrets  []string
	}{
		{"ftp://collector-token@collector.invalid/v1/usage", []string{"collector-token"}},
		{"http://collector-token:hunter2@collector.invalid:port/v1/usage", []string{"collector-token", "hunter2"}},
		{"http://collector-token@/v1/usage", []string{"collector-token"}},
		{"http:collector-token@collector.invalid/v1/usage", []string{"collector-token"}},
		{"http://collector-token:pa%zzss@collector.invalid/v1/usage", []string{"collector-token", "pa%", "%zz", "zzss"}},
		{"http://collector-token:hun/ter2@collector.invalid/v1/usage", []string{"collector-token", "hun", "ter2"}},
		{"http://collector-token:hun#ter2@collector.invalid/v1/usage", []string{"collector-token", "hun", "ter2"}},
	}
	for _, tc := range cases {
		t.Run(tc.endpoint, func(t *testing.T) {
			_, err := NewJSONSink(tc.endpoint)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "usage: JSON sink URL")
			for _, secret := range tc.secrets {
				assert.NotContains(t, err.Error(), secret)
			}
		})
	}
}

func TestRedactLogTextHidesUserInfo(t *testing.T) {
	cases := map[string]string{
		`Post "http://collector-token@127.0.0.1:8080/v1/usage": dial tcp 127.0.0.1:8080: connect: connection refused`: `Post "http://xxxxx@127.0.0.1:8080/v1/usage": dial tcp 127.0.0.1:8080: connect: connection refused`,
		"POST https://collector-token:xxxxx@127.0.0.1/v1/usage (status: 429)":                                         "POST https://xxxxx@127.0.0.1/v1/usage (status: 429)",
		"http://user%40corp:p@ss@127.0.0.1/v1/usage":                                                                  "http://xxxxx@127.0.0.1/v1/usage",
		"http://127.0.0.1/v1/usage@v2?api_key=query-secret":                                                           "http://127.0.0.1/v1/usage@v2",
		"http://127.0.0.1:8080/v1/usage":                                                                              "http://127.0.0.1:8080/v1/usage",
		"user-1@example.com sent a batch":                                                                             "user-1@example.com sent a batch",
	}
	for text, expected := range cases {
		assert.Equal(t, expected, redactLogText(text))
	}
}

func TestJSONSinkRetryAfterPastDeadline(t *testing.T) {
	c := newCollector(t, func(w http.ResponseWriter, attempt int) bool {
		if attempt > 0 {
			return false
		}
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusTooManyRequests)
		return true
	})
	sink := newTestJSONSink(t, c, WithJSONMaxRetryAfter(time.Second))

	// The Sender waits min(RetryAfterError.After, its max backoff) before
	// the next attempt, so its max backoff must be well under the batch
	// timeout too.
	s := NewSender(sink, WithBatchTimeout(time.Second), WithRetry(5, time.Millisecond, 50*time.Millisecond))

	start := time.Now()
	s.Record(testEvent(t, "rate-limited", 1, "m", 1, 1))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, s.Close(ctx))
	assert.Less(t, time.Since(start), 3*time.Second)

	stats := s.Stats()
	assert.Equal(t, int64(1), stats.Sent)
	assert.Zero(t, stats.Failed)

	keys, _, _ := c.snapshot()
	require.Len(t, keys, 2)
	assert.Equal(t, keys[0], keys[1])
}

func TestJSONSinkStopsRetryingPastDeadline(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()

	cases := map[string]struct {
		status     int
		retryAfter string
		after      bool
	}{
		"retry-after past deadline": {http.StatusTooManyRequests, "3600", true},
		"backoff past deadline":     {http.StatusServiceUnavailable, "", false},
		"connection refused":        {0, "", false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			endpoint := downURL
			var c *collector
			if tc.status != 0 {
				c = newCollector(t, func(w http.ResponseWriter, _ int) bool {
					if tc.retryAfter != "" {
						w.Header().Set("Retry-After", tc.retryAfter)
					}
					w.WriteHeader(tc.status)
					return true
				})
				endpoint = c.URL
			}

			var logs bytes.Buffer
			sink, err := NewJSONSink(endpoint, WithJSONRetry(3, 5*time.Second, 5*time.Second),
				WithJSONMaxRetryAfter(5*time.Second), WithJSONLogger(slog.New(slog.NewTextHandler(&logs, nil))))
			require.NoError(t, err)
			defer sink.CloseIdleConnections()

			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			start := time.Now()
			err = sink.Send(ctx, []Event{testEvent(t, "id-1", 1, "m", 1, 1)})
			elapsed := time.Since(start)

			require.Error(t, err)
			assert.Less(t, elapsed, time.Second, "Send waited for the deadline")
			assert.False(t, IsPermanent(err))
			assert.NotErrorIs(t, err, context.DeadlineExceeded)
			retryAfter, isRetryAfter := err.(*RetryAfterError)
			assert.Equal(t, tc.after, isRetryAfter)
			if isRetryAfter {
				assert.Equal(t, 5*time.Second, retryAfter.After)
			}
			assert.Contains(t, logs.String(), "stopped retrying because the next wait ends after the deadline")
			if c != nil {
				keys, _, _ := c.snapshot()
				assert.Len(t, keys, 1)
			}
		})
	}
}

func TestJSONSinkRetriesWithinDeadline(t *testing.T) {
	cases := map[string]struct {
		status     int
		retryAfter string
	}{
		"retry-after clamped": {http.StatusTooManyRequests, "3600"},
		"backoff":             {http.StatusServiceUnavailable, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := newCollector(t, func(w http.ResponseWriter, attempt int) bool {
				if attempt > 0 {
					return false
				}
				if tc.retryAfter != "" {
					w.Header().Set("Retry-After", tc.retryAfter)
				}
				w.WriteHeader(tc.status)
				return true
			})
			sink := newTestJSONSink(t, c, WithJSONMaxRetryAfter(100*time.Millisecond))

			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			require.NoError(t, sink.Send(ctx, []Event{testEvent(t, "id-1", 1, "m", 1, 1)}))

			keys, _, _ := c.snapshot()
			assert.Len(t, keys, 2)
		})
	}
}
