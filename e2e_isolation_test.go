package httpmeter_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
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

// The body every user's request gets back: testdata/e2e/openai-chat.json,
// which reports 52 input and 31 output tokens.
const (
	isolationBody         = ownBodiesDir + "/openai-chat.json"
	isolationInputTokens  = 52
	isolationOutputTokens = 31
)

// isolationUser is one simulated user with a token and a product of their
// own.
type isolationUser struct {
	credential authctx.Credential
	product    product.Product
}

func TestConcurrentUsersStayIsolated(t *testing.T) {
	testUserIsolation(t, 200, 20)
}

func TestThousandUsersStayIsolated(t *testing.T) {
	testUserIsolation(t, 1000, 5)
}

// testUserIsolation runs users goroutines at once, each a different user
// that sends requestsPerUser chat requests through one shared stack. Usage
// goes through a real usage.Sender and beacon sink to a fake workspace. It
// then checks that every upstream request, every event and every beacon
// carries its own user's token and product, and no one else's.
func testUserIsolation(t *testing.T, users, requestsPerUser int) {
	body, err := readOwnBody(isolationBody)
	require.NoError(t, err)
	upstream := testservers.NewServer(testservers.Replay(body))
	defer upstream.Close()
	workspace := testservers.NewServer(testservers.Workspace{Invocation: body}.Handler())
	defer workspace.Close()

	watch := newSecretWatch(t)
	app := newApp(t)
	everyone := make([]isolationUser, users)
	userOfToken := make(map[string]int, users)
	for i := range everyone {
		subject := fmt.Sprintf("user%04d", i)
		everyone[i] = isolationUser{
			credential: authctx.Credential{
				Token:   watch.Token(subject),
				Method:  authctx.MethodOnBehalfOf,
				Subject: subject + "@example.com",
				Host:    workspace.URL,
			},
			product: newProduct(t, app, "feature_"+subject),
		}
		userOfToken[everyone[i].credential.Token] = i
	}

	beacon := usage.NewBeaconSink(usage.WithBeaconLogger(watch.Logger()))
	defer beacon.CloseIdleConnections()
	sender := usage.NewSender(beacon,
		usage.WithWorkers(4),
		usage.WithBatchInterval(10*time.Millisecond),
		usage.WithSenderLogger(watch.Logger()),
	)

	// Each event is checked on the goroutine that records it: its
	// credential and its product must belong to the same user.
	var mixedEvents mismatches
	recorder := usage.RecorderFunc(func(e usage.Event) {
		i, ok := userOfToken[e.Credential.Token]
		if !ok {
			mixedEvents.Add("event %s of product %s carries no user's token", e.ID, e.Product)
		} else if everyone[i].product != e.Product {
			mixedEvents.Add("event %s of product %s carries the token of user %d", e.ID, e.Product, i)
		}
		sender.Record(e)
	})

	stack, err := httpmeter.New(newBaseTransport(t), httpmeter.Config{
		App:            app,
		AllowedOrigins: []string{upstream.URL},
		Recorder:       recorder,
		Logger:         watch.Logger(),
	})
	require.NoError(t, err)
	client := &http.Client{Transport: stack}

	var group errgroup.Group
	for i, user := range everyone {
		group.Go(func() error {
			ctx := authctx.NewContext(product.NewContext(t.Context(), user.product), user.credential)
			for range requestsPerUser {
				if err := sendChat(ctx, client, upstream.URL+"/v1/users/"+strconv.Itoa(i)+"/chat/completions"); err != nil {
					watch.Error(err)
					return fmt.Errorf("user %d: %w", i, err)
				}
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

	total := users * requestsPerUser
	mixedEvents.Check(t, "events whose credential and product belong to different users")

	t.Run("upstream", func(t *testing.T) {
		requests := upstream.Requests()
		require.Len(t, requests, total)

		perUser := make([]int, users)
		var wrongToken, wrongProduct mismatches
		for _, r := range requests {
			i := userOfPath(t, r.Path)
			require.GreaterOrEqual(t, i, 0, "path %q", r.Path)
			require.Less(t, i, users, "path %q", r.Path)
			perUser[i]++

			if r.Authorization() != "Bearer "+everyone[i].credential.Token {
				wrongToken.Add("request of user %d carries the token of user %d", i, userOfAuthorization(userOfToken, r.Authorization()))
			}
			if r.UserAgent() != everyone[i].product.UserAgent() {
				wrongProduct.Add("request of user %d carries User-Agent %q", i, r.UserAgent())
			}
		}
		wrongToken.Check(t, "upstream requests with another user's token")
		wrongProduct.Check(t, "upstream requests with another user's product")
		for i, n := range perUser {
			assert.Equal(t, requestsPerUser, n, "requests of user %d", i)
		}
	})

	t.Run("telemetry", func(t *testing.T) {
		stats := sender.Stats()
		assert.Equal(t, int64(total), stats.Recorded, "events recorded")
		assert.Equal(t, int64(total), stats.Sent, "events sent")
		assert.Zero(t, stats.Failed, "events failed")
		assert.Equal(t, usage.DropCounts{}, stats.Dropped, "events dropped")

		beacons := workspace.RequestsTo(http.MethodGet, testservers.ServingEndpointsPath)
		require.NotEmpty(t, beacons)
		require.Len(t, workspace.Requests(), len(beacons), "the workspace must receive only beacons")

		inputPerUser := make([]int64, users)
		outputPerUser := make([]int64, users)
		var wrongBeacons mismatches
		for _, b := range beacons {
			i := userOfAuthorization(userOfToken, b.Authorization())
			require.GreaterOrEqual(t, i, 0, "beacon whose Authorization holds no user's bearer token")

			fields, err := usage.ParseBeaconUserAgent(b.UserAgent())
			require.NoError(t, err)
			assert.Equal(t, "acme", fields.App)
			assert.Equal(t, "0.1.0", fields.Version)
			assert.Equal(t, "gpt-4o-mini-2024-07-18", fields.Model)
			if fields.Feature != everyone[i].product.Feature() {
				wrongBeacons.Add("beacon with the token of user %d names feature %q", i, fields.Feature)
			}
			inputPerUser[i] += fields.InputTokens
			outputPerUser[i] += fields.OutputTokens
		}
		wrongBeacons.Check(t, "beacons whose token and feature belong to different users")
		for i := range everyone {
			assert.Equal(t, int64(requestsPerUser*isolationInputTokens), inputPerUser[i], "input tokens reported for user %d", i)
			assert.Equal(t, int64(requestsPerUser*isolationOutputTokens), outputPerUser[i], "output tokens reported for user %d", i)
		}
	})
}

// sendChat posts a chat request to url, reads the whole response and checks
// its status.
func sendChat(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")

	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()

	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d from %s", resp.StatusCode, url)
	}
	return nil
}

// userOfAuthorization returns the user whose bearer token authorization
// carries, or -1.
func userOfAuthorization(userOfToken map[string]int, authorization string) int {
	token, ok := strings.CutPrefix(authorization, "Bearer ")
	if !ok {
		return -1
	}
	i, ok := userOfToken[token]
	if !ok {
		return -1
	}
	return i
}

// mismatches collects descriptions of cross-user mixing, so that thousands of
// them fail a test with one readable message. It is safe for concurrent use.
type mismatches struct {
	mu    sync.Mutex
	count int
	first []string
}

// Add records one mismatch. Descriptions never contain a token.
func (m *mismatches) Add(format string, args ...any) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.count++
	if len(m.first) < 5 {
		m.first = append(m.first, fmt.Sprintf(format, args...))
	}
}

// Check fails t when any mismatch was added, listing the first ones.
func (m *mismatches) Check(t *testing.T, description string) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	assert.Zero(t, m.count, "%s: %d, first: %q", description, m.count, m.first)
}

// userOfPath returns the user index in a path "/v1/users/{i}/chat/completions".
func userOfPath(t *testing.T, path string) int {
	t.Helper()
	rest, ok := strings.CutPrefix(path, "/v1/users/")
	require.True(t, ok, "path %q", path)
	index, _, _ := strings.Cut(rest, "/")
	i, err := strconv.Atoi(index)
	require.NoError(t, err, "path %q", path)
	return i
}

// readOwnBody returns one of the project's own bodies as a 200 JSON response.
func readOwnBody(path string) (testservers.Body, error) {
	cases, err := testservers.LoadManifest(ownBodiesDir)
	if err != nil {
		return testservers.Body{}, err
	}
	for _, c := range cases {
		if ownBodiesDir+"/"+c.File == path {
			return c.Body()
		}
	}
	return testservers.Body{}, fmt.Errorf("%s is not listed in %s/MANIFEST.tsv", path, ownBodiesDir)
}
