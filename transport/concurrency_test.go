package transport

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/httpmeter/httpmeter/authctx"
	"github.com/httpmeter/httpmeter/product"
	"github.com/httpmeter/httpmeter/usage"
)

// echoUsageHandler serves an OpenAI chat completion whose model and usage
// are taken from the request path /u/{user}/{request}/..., and echoes the
// Authorization and User-Agent it received in response headers.
func echoUsageHandler() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var user, request int
		if _, err := fmt.Sscanf(r.URL.Path, "/u/%d/%d/", &user, &request); err != nil {
			http.Error(w, "path must start with /u/{user}/{request}/", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Seen-Authorization", r.Header.Get("Authorization"))
		w.Header().Set("X-Seen-User-Agent", r.Header.Get("User-Agent"))
		_, _ = fmt.Fprintf(w, `{"id":"c","object":"chat.completion","model":"m-%d-%d","choices":[],`+
			`"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}}`,
			user, request, user+1, request+1, user+request+2)
	}
}

// concurrencyCase is one layer, or the whole stack, under the concurrency
// test, with the checks that apply to it.
type concurrencyCase struct {
	name                          string
	userAgent, bearer, usageLayer bool
}

func TestLayersConcurrentUsers(t *testing.T) {
	cases := []concurrencyCase{
		{name: "UserAgent", userAgent: true},
		{name: "Bearer", bearer: true},
		{name: "Usage", usageLayer: true},
		{name: "Chain", userAgent: true, bearer: true, usageLayer: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			runConcurrentUsers(t, c)
		})
	}
}

// runConcurrentUsers sends requests for many users at once, each with its
// own credential and product, and checks that every request carried its
// own user's header values and produced an event with its own credential.
func runConcurrentUsers(t *testing.T, c concurrencyCase) {
	const users, requestsPerUser = 32, 8
	srv := newServer(t, echoUsageHandler())
	log := &eventLog{}
	app := testApp(t)

	var layers []func(http.RoundTripper) http.RoundTripper
	if c.userAgent {
		layers = append(layers, func(next http.RoundTripper) http.RoundTripper { return UserAgent(next, app) })
	}
	if c.bearer {
		layers = append(layers, func(next http.RoundTripper) http.RoundTripper {
			b, err := Bearer(next, AllowOrigins(srv.URL))
			require.NoError(t, err)
			return b
		})
	}
	if c.usageLayer {
		layers = append(layers, func(next http.RoundTripper) http.RoundTripper { return Usage(next, log) })
	}
	client := &http.Client{Transport: Chain(newLoopbackTransport(t), layers...)}

	var wg sync.WaitGroup
	for u := 0; u < users; u++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := app.Product(fmt.Sprintf("feature%d", u))
			if !assert.NoError(t, err) {
				return
			}
			ctx := authctx.NewContext(context.Background(), testCredential(fmt.Sprintf("user%d", u), "https://adb-1.example"))
			ctx = product.NewContext(ctx, p)

			for r := 0; r < requestsPerUser; r++ {
				url := fmt.Sprintf("%s/u/%d/%d/v1/chat/completions", srv.URL, u, r)
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(`{}`))
				if !assert.NoError(t, err) {
					return
				}
				resp, err := client.Do(req)
				if !assert.NoError(t, err) {
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()

				wantAuth, wantUA := "", "Go-http-client/1.1"
				if c.bearer {
					wantAuth = fmt.Sprintf("Bearer tok-user%d", u)
				}
				if c.userAgent {
					wantUA = fmt.Sprintf("acme_feature%d/0.1.0", u)
				}
				assert.Equal(t, wantAuth, resp.Header.Get("X-Seen-Authorization"))
				assert.Equal(t, wantUA, resp.Header.Get("X-Seen-User-Agent"))
			}
		}()
	}
	wg.Wait()

	events := log.all()
	if !c.usageLayer {
		assert.Empty(t, events)
		return
	}
	require.Len(t, events, users*requestsPerUser)
	byPath := map[string]usage.Event{}
	for _, e := range events {
		byPath[e.Path] = e
	}
	require.Len(t, byPath, users*requestsPerUser, "one event per request")

	for u := 0; u < users; u++ {
		for r := 0; r < requestsPerUser; r++ {
			e, ok := byPath[fmt.Sprintf("/u/%d/%d/v1/chat/completions", u, r)]
			require.True(t, ok, "no event for user %d request %d", u, r)
			assert.Equal(t, fmt.Sprintf("user%d", u), e.Credential.Subject)
			assert.Equal(t, fmt.Sprintf("tok-user%d", u), e.Credential.Token)
			assert.Equal(t, fmt.Sprintf("feature%d", u), e.Product.Feature())
			assert.True(t, e.Complete)
			assert.Equal(t, fmt.Sprintf("m-%d-%d", u, r), e.Model)
			assert.Equal(t, int64(u+1), e.Usage.InputTokens)
			assert.Equal(t, int64(r+1), e.Usage.OutputTokens)
			assert.Equal(t, int64(u+r+2), e.Usage.TotalTokens)
		}
	}
}
