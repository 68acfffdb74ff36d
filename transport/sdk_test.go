package transport

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/databricks/databricks-sdk-go"
	"github.com/databricks/databricks-sdk-go/service/serving"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/httpmeter/httpmeter/authctx"
	"github.com/httpmeter/httpmeter/product"
)

// workspaceRequest is one request a fake workspace received.
type workspaceRequest struct {
	method, path, authorization, userAgent string
}

// fakeWorkspace is a loopback server with the endpoints the Databricks SDK
// calls for a serving endpoint query: OAuth discovery and token under
// /oidc/, and /serving-endpoints/{name}/invocations.
type fakeWorkspace struct {
	url      string
	mu       sync.Mutex
	requests []workspaceRequest
}

func newFakeWorkspace(t *testing.T) *fakeWorkspace {
	ws := &fakeWorkspace{}
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws.mu.Lock()
		ws.requests = append(ws.requests, workspaceRequest{method: r.Method, path: r.URL.Path,
			authorization: r.Header.Get("Authorization"), userAgent: r.Header.Get("User-Agent")})
		ws.mu.Unlock()
		_, _ = io.Copy(io.Discard, r.Body)

		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/oidc/.well-known/oauth-authorization-server":
			_ = json.NewEncoder(w).Encode(map[string]string{
				"authorization_endpoint": ws.url + "/oidc/v1/authorize",
				"token_endpoint":         ws.url + "/oidc/v1/token",
			})
		case r.URL.Path == "/oidc/v1/token":
			_, _ = io.WriteString(w, `{"access_token":"m2m-token","token_type":"Bearer","expires_in":3600}`)
		case strings.HasPrefix(r.URL.Path, "/serving-endpoints/") && strings.HasSuffix(r.URL.Path, "/invocations"):
			_, _ = io.WriteString(w, chatJSON)
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = fmt.Fprintf(w, `{"error_code":"NOT_FOUND","message":"no fake for %s"}`, r.URL.Path)
		}
	}))
	ws.url = srv.URL
	return ws
}

func (ws *fakeWorkspace) received() []workspaceRequest {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return append([]workspaceRequest(nil), ws.requests...)
}

// sdkStack returns the full stack over a loopback transport, with the fake
// workspace as the only allowed origin.
func sdkStack(t *testing.T, ws *fakeWorkspace, log *eventLog) http.RoundTripper {
	return Chain(newLoopbackTransport(t),
		func(next http.RoundTripper) http.RoundTripper { return UserAgent(next, testApp(t)) },
		func(next http.RoundTripper) http.RoundTripper {
			b, err := Bearer(next, AllowOrigins(ws.url))
			require.NoError(t, err)
			return b
		},
		func(next http.RoundTripper) http.RoundTripper { return Usage(next, log) },
	)
}

func queryChat(t *testing.T, w *databricks.WorkspaceClient, ctx context.Context) {
	t.Helper()
	resp, err := w.ServingEndpoints.Query(ctx, serving.QueryEndpointInput{
		Name:     "chat",
		Messages: []serving.ChatMessage{{Role: serving.ChatMessageRoleUser, Content: "hi"}},
	})
	require.NoError(t, err)
	require.NotNil(t, resp.Usage)
	assert.Equal(t, 18, resp.Usage.TotalTokens)
}

func TestStackUnderDatabricksSDKWithPAT(t *testing.T) {
	ws := newFakeWorkspace(t)
	log := &eventLog{}
	w, err := databricks.NewWorkspaceClient(&databricks.Config{
		Host:          ws.url,
		Token:         "dapi-sdk-token",
		HTTPTransport: sdkStack(t, ws, log),
	})
	require.NoError(t, err)

	ctx := product.NewContext(authctx.NewContext(context.Background(), testCredential("ada", ws.url)), testProduct(t, "chat"))
	queryChat(t, w, ctx)

	var invocation *workspaceRequest
	for _, r := range ws.received() {
		if r.path == "/serving-endpoints/chat/invocations" {
			invocation = &r
		}
	}
	require.NotNil(t, invocation, "the SDK did not call the serving endpoint")
	assert.Equal(t, "Bearer dapi-sdk-token", invocation.authorization, "the SDK's own Authorization is kept")
	assert.Contains(t, invocation.userAgent, "databricks-sdk-go/0.100.0 ")
	assert.True(t, strings.HasSuffix(invocation.userAgent, " acme_chat/0.1.0"), invocation.userAgent)
	assert.Equal(t, 1, strings.Count(invocation.userAgent, "acme_chat/0.1.0"))

	events := log.all()
	require.Len(t, events, 1)
	assert.Equal(t, "/serving-endpoints/chat/invocations", events[0].Path)
	assert.Equal(t, int64(18), events[0].Usage.TotalTokens)
	assert.True(t, events[0].Credential.IsZero(), "the SDK's token, not the context credential, authenticated the request")
	assert.Equal(t, "acme_chat/0.1.0", events[0].Product.UserAgent())
}

func TestStackUnderDatabricksSDKWithOAuth(t *testing.T) {
	ws := newFakeWorkspace(t)
	log := &eventLog{}
	w, err := databricks.NewWorkspaceClient(&databricks.Config{
		Host:          ws.url,
		ClientID:      "client-id",
		ClientSecret:  "client-secret",
		HTTPTransport: sdkStack(t, ws, log),
	})
	require.NoError(t, err)

	ctx := product.NewContext(authctx.NewContext(context.Background(), testCredential("ada", ws.url)), testProduct(t, "chat"))
	queryChat(t, w, ctx)

	sawToken := false
	for _, r := range ws.received() {
		if strings.HasPrefix(r.path, "/oidc/") {
			sawToken = sawToken || r.path == "/oidc/v1/token"
			assert.NotContains(t, r.authorization, "tok-ada", "Bearer authenticated an OAuth request to %s", r.path)
			continue
		}
		if r.path == "/serving-endpoints/chat/invocations" {
			assert.Equal(t, "Bearer m2m-token", r.authorization)
		}
	}
	assert.True(t, sawToken, "the SDK did not fetch its token through the stack: %+v", ws.received())

	events := log.all()
	require.Len(t, events, 1, "only the serving call is metered")
	assert.Equal(t, "/serving-endpoints/chat/invocations", events[0].Path)
}
