package httpmeter_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"github.com/httpmeter/httpmeter"
	"github.com/httpmeter/httpmeter/authctx"
	"github.com/httpmeter/httpmeter/internal/testservers"
	"github.com/httpmeter/httpmeter/product"
	"github.com/httpmeter/httpmeter/usage"
)

// TestDatabricksAppOnBehalfOfUsers runs a Databricks App the way the
// platform does. A proxy forwards each signed-in user's token in
// X-Forwarded-Access-Token, and authctx.Middleware moves it into the request
// context. The handler then queries a serving endpoint through one shared
// stack, once on the request goroutine and once from a goroutine started
// with authctx.Go. Usage reaches the workspace as beacons through a real
// Sender. A goroutine started without authctx.Go must fail closed.
func TestDatabricksAppOnBehalfOfUsers(t *testing.T) {
	const users = 50

	body, err := readOwnBody(ownBodiesDir + "/databricks-chat.json")
	require.NoError(t, err)
	workspace := testservers.NewServer(testservers.Workspace{Invocation: body}.Handler())
	defer workspace.Close()

	watch := newSecretWatch(t)
	app := newApp(t)
	assistant := newProduct(t, app, "assistant")

	beacon := usage.NewBeaconSink(usage.WithBeaconLogger(watch.Logger()))
	defer beacon.CloseIdleConnections()
	sender := usage.NewSender(beacon, usage.WithBatchInterval(5*time.Millisecond), usage.WithSenderLogger(watch.Logger()))

	stack, err := httpmeter.New(newBaseTransport(t), httpmeter.Config{
		App:            app,
		AllowedOrigins: []string{workspace.URL},
		Recorder:       sender,
		Logger:         watch.Logger(),
	})
	require.NoError(t, err)
	client := &http.Client{Transport: stack}
	queryURL := workspace.URL + "/serving-endpoints/" + servingEndpoint + "/invocations"

	var bareGoroutineErrs mismatches
	var forwardedHeaderSeen mismatches
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(authctx.HeaderForwardedAccessToken) != "" {
			forwardedHeaderSeen.Add("handler of %s still sees the forwarded token header", r.Header.Get(authctx.HeaderForwardedEmail))
		}
		ctx := product.NewContext(r.Context(), assistant)

		if err := sendChat(ctx, client, queryURL); err != nil {
			watch.Error(err)
			http.Error(w, "query failed", http.StatusBadGateway)
			return
		}

		var background sync.WaitGroup
		background.Add(1)
		authctx.Go(ctx, func(ctx context.Context) {
			defer background.Done()
			watch.Error(sendChat(ctx, client, queryURL))
		})

		// A goroutine that drops the context has no credential, and the
		// stack must refuse to send its request rather than borrow one.
		background.Add(1)
		go func() {
			defer background.Done()
			err := sendChat(context.Background(), client, queryURL)
			watch.Error(err)
			if !errors.Is(err, authctx.ErrNoCredential) {
				bareGoroutineErrs.Add("a request without a credential returned %v", err)
			}
		}()
		background.Wait()

		_, _ = io.WriteString(w, "ok")
	})
	appServer := testservers.NewServer(authctx.Middleware(handler,
		authctx.TrustForwardedHeaders(),
		authctx.WithWorkspaceHost(workspace.URL),
	))
	defer appServer.Close()

	tokens := make(map[string]int, users)
	var group errgroup.Group
	for i := range users {
		subject := fmt.Sprintf("user%02d", i)
		token := watch.Token(subject)
		tokens[token] = i
		group.Go(func() error {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, appServer.URL+"/ask", nil)
			if err != nil {
				return err
			}
			req.Header.Set(authctx.HeaderForwardedAccessToken, token)
			req.Header.Set(authctx.HeaderForwardedEmail, subject+"@example.com")
			resp, err := appServer.Client().Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("app responded %d to %s", resp.StatusCode, subject)
			}
			return nil
		})
	}
	require.NoError(t, group.Wait())

	closeCtx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	closeErr := sender.Close(closeCtx)
	watch.Error(closeErr)
	require.NoError(t, closeErr)

	forwardedHeaderSeen.Check(t, "handlers that saw the forwarded token header")
	bareGoroutineErrs.Check(t, "bare goroutines whose request did not fail closed")

	queries := workspace.RequestsTo(http.MethodPost, "/serving-endpoints/"+servingEndpoint+"/invocations")
	require.Len(t, queries, 2*users, "each user's request and background goroutine query once; bare goroutines send nothing")
	perUser := make([]int, users)
	for _, q := range queries {
		i := userOfAuthorization(tokens, q.Authorization())
		require.GreaterOrEqual(t, i, 0, "a query without a user's token")
		perUser[i]++
		assert.Equal(t, "acme_assistant/0.1.0", q.UserAgent())
	}
	for i, n := range perUser {
		assert.Equal(t, 2, n, "queries with the token of user %d", i)
	}

	beacons := workspace.RequestsTo(http.MethodGet, testservers.ServingEndpointsPath)
	inputPerUser := make([]int64, users)
	for _, b := range beacons {
		i := userOfAuthorization(tokens, b.Authorization())
		require.GreaterOrEqual(t, i, 0, "a beacon without a user's token")
		fields, err := usage.ParseBeaconUserAgent(b.UserAgent())
		require.NoError(t, err)
		assert.Equal(t, "assistant", fields.Feature)
		assert.Equal(t, servingModel, fields.Model)
		inputPerUser[i] += fields.InputTokens
	}
	for i, n := range inputPerUser {
		assert.Equal(t, 2*servingUsage.InputTokens, n, "input tokens in the beacons of user %d", i)
	}
}
