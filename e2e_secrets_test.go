package httpmeter_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/httpmeter/httpmeter"
	"github.com/httpmeter/httpmeter/authctx"
	"github.com/httpmeter/httpmeter/internal/testservers"
	"github.com/httpmeter/httpmeter/usage"
)

// failingProvider is an authctx.Provider whose lookup always fails.
type failingProvider struct{}

func (failingProvider) Name() string { return "failing" }

func (failingProvider) Credential(context.Context) (authctx.Credential, error) {
	return authctx.Credential{}, errors.New("token store unreachable")
}

// TestErrorPathsRevealNoToken drives the stack, the Sender and the beacon
// sink through their error paths with every log record at debug level. The
// secretWatch then scans every record and every error for every token.
func TestErrorPathsRevealNoToken(t *testing.T) {
	watch := newSecretWatch(t)
	logger := watch.Logger()

	body, err := readOwnBody(ownBodiesDir + "/openai-chat.json")
	require.NoError(t, err)
	upstream := testservers.NewServer(testservers.Replay(body))
	defer upstream.Close()
	elsewhere := testservers.NewServer(testservers.Replay(body))
	defer elsewhere.Close()
	redirector := testservers.NewServer(http.RedirectHandler(elsewhere.URL+"/moved", http.StatusTemporaryRedirect))
	defer redirector.Close()
	brokenWorkspace := testservers.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
	}))
	defer brokenWorkspace.Close()

	beacon := usage.NewBeaconSink(usage.WithBeaconLogger(logger))
	defer beacon.CloseIdleConnections()
	sender := usage.NewSender(beacon,
		usage.WithRetry(2, time.Millisecond, 2*time.Millisecond),
		usage.WithBatchInterval(time.Millisecond),
		usage.WithSenderLogger(logger),
	)

	stack, err := httpmeter.New(newBaseTransport(t), httpmeter.Config{
		App:            newApp(t),
		AllowedOrigins: []string{upstream.URL, redirector.URL},
		Provider:       failingProvider{},
		Recorder:       sender,
		Logger:         logger,
	})
	require.NoError(t, err)

	alice := authctx.Credential{Token: watch.Token("alice"), Subject: "alice@example.com", Host: brokenWorkspace.URL}
	aliceCtx := authctx.NewContext(t.Context(), alice)

	t.Run("provider fails", func(t *testing.T) {
		_, err := get(t.Context(), stack, upstream.URL)
		watch.Error(err)
		require.Error(t, err)
		assert.Contains(t, err.Error(), `"failing"`)
	})

	t.Run("token not valid in a header", func(t *testing.T) {
		bad := authctx.Credential{Token: watch.Token("bad") + "\n", Subject: "bad@example.com"}
		_, err := get(authctx.NewContext(t.Context(), bad), stack, upstream.URL)
		watch.Error(err)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "bad@example.com", "the error names the subject instead of the token")
	})

	t.Run("redirect to another origin", func(t *testing.T) {
		_, err := get(aliceCtx, stack, redirector.URL+"/start")
		watch.Error(err)
		require.NoError(t, err)
		moved := elsewhere.Requests()
		require.Len(t, moved, 1)
		assert.Empty(t, moved[0].Authorization())
	})

	t.Run("beacon rejected", func(t *testing.T) {
		_, err := get(aliceCtx, stack, upstream.URL)
		watch.Error(err)
		require.NoError(t, err)

		closeCtx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		closeErr := sender.Close(closeCtx)
		watch.Error(closeErr)

		stats := sender.Stats()
		assert.Equal(t, int64(2), stats.Recorded, "the redirected and the direct request are metered")
		assert.Equal(t, int64(1), stats.Failed, "the direct request's beacon fails after its retries")
		assert.Equal(t, int64(1), beacon.Stats().SkippedNoCredential,
			"alice's token did not authenticate the redirected request, so its event has no credential and no beacon")
		assert.NotEmpty(t, brokenWorkspace.Requests(), "the beacons must have been attempted")
	})

	logs := watch.LogText()
	assert.Contains(t, logs, "beacon", "the beacon failures must have been logged")
	assert.Contains(t, logs, `"level":"DEBUG"`, "the stack's debug records must have been logged")
}
