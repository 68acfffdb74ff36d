package httpmeter_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/databricks/databricks-sdk-go"
	"github.com/databricks/databricks-sdk-go/config"
	"github.com/databricks/databricks-sdk-go/service/serving"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/httpmeter/httpmeter"
	"github.com/httpmeter/httpmeter/authctx"
	"github.com/httpmeter/httpmeter/internal/testservers"
	"github.com/httpmeter/httpmeter/product"
	"github.com/httpmeter/httpmeter/transport"
	"github.com/httpmeter/httpmeter/usage"
)

// The serving endpoint the tests query, and the usage of
// testdata/e2e/databricks-chat.json that it responds with.
const (
	servingEndpoint = "databricks-meta-llama-3-3-70b-instruct"
	servingModel    = "meta-llama-3.3-70b-instruct-121024"
)

var servingUsage = usage.Usage{InputTokens: 17, OutputTokens: 9, TotalTokens: 26}

// newWorkspaceClient returns a Databricks SDK client for host that sends
// through transport. Only the given settings count: Loaders reads no
// environment variable and no ~/.databrickscfg, so the test is the same on
// every machine.
func newWorkspaceClient(t *testing.T, cfg *databricks.Config, transport http.RoundTripper) *databricks.WorkspaceClient {
	t.Helper()
	cfg.HTTPTransport = transport
	cfg.Loaders = []config.Loader{noLoader{}}
	client, err := databricks.NewWorkspaceClient(cfg)
	require.NoError(t, err)
	return client
}

// noLoader is a config.Loader that loads nothing, so a databricks.Config
// holds only what the test sets.
type noLoader struct{}

func (noLoader) Name() string                   { return "none" }
func (noLoader) Configure(*config.Config) error { return nil }

// queryServingEndpoint sends one chat query to the serving endpoint.
func queryServingEndpoint(ctx context.Context, client *databricks.WorkspaceClient) (*serving.QueryEndpointResponse, error) {
	return client.ServingEndpoints.Query(ctx, serving.QueryEndpointInput{
		Name:     servingEndpoint,
		Messages: []serving.ChatMessage{{Role: serving.ChatMessageRoleUser, Content: "Summarize the report."}},
	})
}

func TestDatabricksSDKWithPATThroughStack(t *testing.T) {
	body, err := readOwnBody(ownBodiesDir + "/databricks-chat.json")
	require.NoError(t, err)
	workspace := testservers.NewServer(testservers.Workspace{Invocation: body}.Handler())
	defer workspace.Close()

	watch := newSecretWatch(t)
	sdkToken := watch.Token("sdk")
	base := newBaseTransport(t)

	// The SDK alone shows which User-Agent it sends itself.
	bare := newWorkspaceClient(t, &databricks.Config{Host: workspace.URL, Token: sdkToken, Credentials: config.PatCredentials{}}, base)
	_, err = queryServingEndpoint(t.Context(), bare)
	watch.Error(err)
	require.NoError(t, err)
	sdkUserAgent := workspace.Requests()[0].UserAgent()
	require.Contains(t, sdkUserAgent, " databricks-sdk-go/0.100.0 ", "the SDK's own User-Agent")

	app := newApp(t)
	assistant := newProduct(t, app, "serving_assistant")
	var events eventLog
	stack, err := httpmeter.New(base, httpmeter.Config{
		App:            app,
		AllowedOrigins: []string{workspace.URL},
		Recorder:       &events,
		Logger:         watch.Logger(),
	})
	require.NoError(t, err)
	client := newWorkspaceClient(t, &databricks.Config{Host: workspace.URL, Token: sdkToken, Credentials: config.PatCredentials{}}, stack)

	// The context carries a user's credential too, but the SDK has already
	// set its own Authorization, which the stack must leave alone.
	userCredential := authctx.Credential{Token: watch.Token("alice"), Subject: "alice@example.com", Host: workspace.URL}
	ctx := authctx.NewContext(product.NewContext(t.Context(), assistant), userCredential)
	response, err := queryServingEndpoint(ctx, client)
	watch.Error(err)
	require.NoError(t, err)
	require.NotNil(t, response.Usage)
	assert.Equal(t, 17, response.Usage.PromptTokens, "the SDK must still decode the metered body")

	requests := workspace.Requests()
	require.Len(t, requests, 2)
	query := requests[1]
	assert.Equal(t, "/serving-endpoints/"+servingEndpoint+"/invocations", query.Path)
	assert.Equal(t, sdkUserAgent+" acme_serving_assistant/0.1.0", query.UserAgent(), "the SDK's User-Agent keeps its parts and gains the product token")
	assert.Equal(t, "Bearer "+sdkToken, query.Authorization(), "the SDK's Authorization is left alone")

	recorded := events.Events()
	require.Len(t, recorded, 1, "the serving-endpoint query is metered once")
	event := recorded[0]
	assert.Equal(t, servingUsage, withoutRaw(event.Usage))
	assert.Equal(t, usage.SourceReported, event.Source)
	assert.Equal(t, servingModel, event.Model)
	assert.Equal(t, assistant, event.Product)
	assert.True(t, event.Complete)
	assert.True(t, event.Credential.IsZero(), "the user's credential did not authenticate the SDK's request, so the event must not carry it")
}

func TestDatabricksSDKWithOAuthThroughStack(t *testing.T) {
	body, err := readOwnBody(ownBodiesDir + "/databricks-chat.json")
	require.NoError(t, err)
	watch := newSecretWatch(t)
	accessToken := watch.Token("service-principal")
	workspace := testservers.NewServer(testservers.Workspace{Invocation: body, AccessToken: accessToken}.Handler())
	defer workspace.Close()

	app := newApp(t)
	var events eventLog
	stack, err := httpmeter.New(newBaseTransport(t), httpmeter.Config{
		App:            app,
		AllowedOrigins: []string{workspace.URL},
		Recorder:       &events,
		Logger:         watch.Logger(),
	})
	require.NoError(t, err)

	clientSecret := watch.Token("client-secret")
	client := newWorkspaceClient(t, &databricks.Config{
		Host:         workspace.URL,
		ClientID:     "e2e-client",
		ClientSecret: clientSecret,
		Credentials:  config.M2mCredentials{},
	}, stack)

	ctx := product.NewContext(t.Context(), newProduct(t, app, "batch"))
	_, err = queryServingEndpoint(ctx, client)
	watch.Error(err)
	require.NoError(t, err)

	discovery := workspace.RequestsTo(http.MethodGet, "/oidc/.well-known/oauth-authorization-server")
	require.NotEmpty(t, discovery, "the SDK must discover the OAuth endpoints through the stack")
	for _, r := range discovery {
		assert.Empty(t, r.Authorization(), "OAuth discovery must not carry a bearer token")
	}

	tokenRequests := workspace.RequestsTo(http.MethodPost, "/oidc/v1/token")
	require.Len(t, tokenRequests, 1, "the SDK must fetch its token through the stack once")
	assert.True(t, strings.HasPrefix(tokenRequests[0].Authorization(), "Basic "), "the token request keeps the SDK's client authentication")
	assert.True(t, strings.HasSuffix(tokenRequests[0].UserAgent(), " acme/0.1.0"), "User-Agent of the token request: %q", tokenRequests[0].UserAgent())

	queries := workspace.RequestsTo(http.MethodPost, "/serving-endpoints/"+servingEndpoint+"/invocations")
	require.Len(t, queries, 1)
	assert.Equal(t, "Bearer "+accessToken, queries[0].Authorization())
	assert.True(t, strings.HasSuffix(queries[0].UserAgent(), " acme_batch/0.1.0"), "User-Agent of the query: %q", queries[0].UserAgent())

	recorded := events.Events()
	require.Len(t, recorded, 1, "only the query is metered, not the token refresh")
	assert.Equal(t, servingUsage, withoutRaw(recorded[0].Usage))
	assert.Equal(t, "/serving-endpoints/"+servingEndpoint+"/invocations", recorded[0].Path)
}

func TestDatabricksSDKOnBehalfOfUser(t *testing.T) {
	body, err := readOwnBody(ownBodiesDir + "/databricks-chat.json")
	require.NoError(t, err)
	workspace := testservers.NewServer(testservers.Workspace{Invocation: body}.Handler())
	defer workspace.Close()

	watch := newSecretWatch(t)
	app := newApp(t)
	var events eventLog
	stack, err := httpmeter.New(newBaseTransport(t), httpmeter.Config{
		App:            app,
		AllowedOrigins: []string{workspace.URL},
		Recorder:       &events,
		Logger:         watch.Logger(),
		BearerOptions:  []transport.BearerOption{transport.ReplaceAuthorization()},
	})
	require.NoError(t, err)

	// One SDK client serves every user: its own token is only a
	// placeholder, which the stack replaces with the token in the context.
	client := newWorkspaceClient(t, &databricks.Config{Host: workspace.URL, Token: watch.Token("app"), Credentials: config.PatCredentials{}}, stack)

	for _, subject := range []string{"alice", "bob"} {
		credential := authctx.Credential{Token: watch.Token(subject), Method: authctx.MethodOnBehalfOf, Subject: subject + "@example.com", Host: workspace.URL}
		ctx := authctx.NewContext(product.NewContext(t.Context(), newProduct(t, app, "assistant")), credential)
		_, err := queryServingEndpoint(ctx, client)
		watch.Error(err)
		require.NoError(t, err)

		requests := workspace.Requests()
		assert.Equal(t, "Bearer "+credential.Token, requests[len(requests)-1].Authorization(), "the query of %s carries their own token", subject)
		recorded := events.Events()
		assert.Equal(t, credential, recorded[len(recorded)-1].Credential, "the event of %s carries their credential, so a beacon can be sent for it", subject)
	}
	assert.Len(t, events.Events(), 2)
}
