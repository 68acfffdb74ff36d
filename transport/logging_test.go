package transport

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/httpmeter/httpmeter/authctx"
)

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestLayersLogWithoutSecrets(t *testing.T) {
	var out syncBuffer
	logger := slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))

	base := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"image/png"}}, Body: newCountingBody("png"), Request: req}, nil
	})
	bearer, err := Bearer(Usage(base, &eventLog{}, WithLogger(logger)), AllowOrigins("https://a.example"), WithLogger(logger))
	require.NoError(t, err)
	rt := UserAgent(bearer, testApp(t), WithLogger(logger))

	secret := authctx.Credential{Token: "secret-token-value", Subject: "ada"}
	ctx := authctx.NewContext(context.Background(), secret)
	for _, url := range []string{
		"https://a.example/v1/chat/completions",
		"https://other.example/v1/chat/completions?key=query-secret",
		"https://a.example/oidc/v1/token",
	} {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
		require.NoError(t, err)
		resp, err := rt.RoundTrip(req)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
	}

	logged := out.String()
	assert.Contains(t, logged, "origin not allowed")
	assert.Contains(t, logged, "OAuth token request sent without a bearer token")
	assert.Contains(t, logged, "content type not recognized")
	assert.NotContains(t, logged, "secret-token-value")
	assert.NotContains(t, logged, "query-secret")
}

func TestLayersDiscardLogsByDefault(t *testing.T) {
	// A nil logger must not panic on the paths that log.
	rt, err := Bearer(roundTripFunc(func(req *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: http.StatusNoContent, Header: http.Header{}, Body: http.NoBody, Request: req}, nil
	}), AllowOrigins("https://a.example"), WithLogger(nil))
	require.NoError(t, err)

	req, err := http.NewRequest(http.MethodGet, "https://other.example/x", nil)
	require.NoError(t, err)
	resp, err := rt.RoundTrip(req)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
}
