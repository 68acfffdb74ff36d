package transport

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/httpmeter/httpmeter/authctx"
	"github.com/httpmeter/httpmeter/product"
)

func TestStackUnderRetryableHTTP(t *testing.T) {
	type attempt struct{ authorization, userAgent, body string }
	var (
		mu       sync.Mutex
		attempts []attempt
	)
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		attempts = append(attempts, attempt{r.Header.Get("Authorization"), r.Header.Get("User-Agent"), string(body)})
		n := len(attempts)
		mu.Unlock()

		w.Header().Set("Content-Type", "application/json")
		if n < 3 {
			// A failed attempt carries a usage block too, which must not
			// be counted because the response is not a 2xx.
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, chatJSON)
			return
		}
		_, _ = io.WriteString(w, chatJSON)
	}))

	log := &eventLog{}
	stack := Chain(newLoopbackTransport(t),
		func(next http.RoundTripper) http.RoundTripper { return UserAgent(next, testApp(t)) },
		func(next http.RoundTripper) http.RoundTripper {
			b, err := Bearer(next, AllowOrigins(srv.URL))
			require.NoError(t, err)
			return b
		},
		func(next http.RoundTripper) http.RoundTripper { return Usage(next, log) },
	)
	client := retryablehttp.NewClient()
	client.HTTPClient.Transport = stack
	client.RetryWaitMin = time.Millisecond
	client.RetryWaitMax = 5 * time.Millisecond
	client.RetryMax = 3
	client.Logger = nil

	ctx := product.NewContext(authctx.NewContext(context.Background(), testCredential("ada", srv.URL)), testProduct(t, "chat"))
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(`{"n":1}`))
	require.NoError(t, err)
	resp, err := client.Do(req)
	require.NoError(t, err)
	readAllAndClose(t, resp)

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, attempts, 3)
	for i, a := range attempts {
		assert.Equal(t, "Bearer tok-ada", a.authorization, "attempt %d", i)
		assert.Equal(t, 1, strings.Count(a.userAgent, "acme_chat/0.1.0"), "attempt %d: %s", i, a.userAgent)
		assert.Equal(t, `{"n":1}`, a.body, "attempt %d", i)
	}

	events := log.all()
	require.Len(t, events, 1, "only the successful attempt is metered")
	assert.Equal(t, http.StatusOK, events[0].Status)
	assert.Equal(t, int64(18), events[0].Usage.TotalTokens)
	assert.Equal(t, "ada", events[0].Credential.Subject)
}
