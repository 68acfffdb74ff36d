package transport

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/httpmeter/httpmeter/product"
)

// sentUserAgent sends a request with the given context and User-Agent
// through rt over an in-memory base and returns the User-Agent the base
// received.
func sentUserAgent(t *testing.T, build func(next http.RoundTripper) http.RoundTripper, ctx context.Context, existing []string) []string {
	t.Helper()
	var got []string
	base := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		got = req.Header.Values("User-Agent")
		return &http.Response{StatusCode: http.StatusNoContent, Header: http.Header{}, Body: http.NoBody, Request: req}, nil
	})

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://a.example/api/2.0/clusters/list", nil)
	require.NoError(t, err)
	for _, v := range existing {
		req.Header.Add("User-Agent", v)
	}

	resp, err := build(base).RoundTrip(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	return got
}

func TestUserAgentMergeRules(t *testing.T) {
	const sdk = "databricks-sdk-go/0.100.0 go/1.26 os/linux"
	feature := product.NewContext(context.Background(), testProduct(t, "crew_gen"))

	tests := []struct {
		name     string
		rule     []UserAgentOption
		ctx      context.Context
		existing []string
		want     string
	}{
		{name: "app without existing", ctx: context.Background(), want: "acme/0.1.0"},
		{name: "feature without existing", ctx: feature, want: "acme_crew_gen/0.1.0"},
		{name: "Go default is not existing", ctx: feature, existing: []string{"Go-http-client/1.1"}, want: "acme_crew_gen/0.1.0"},
		{name: "blank existing", ctx: feature, existing: []string{"  "}, want: "acme_crew_gen/0.1.0"},
		{name: "append by default", ctx: feature, existing: []string{sdk}, want: sdk + " acme_crew_gen/0.1.0"},
		{name: "append explicit", rule: []UserAgentOption{WithMergeRule(MergeAppend)}, ctx: feature, existing: []string{sdk}, want: sdk + " acme_crew_gen/0.1.0"},
		{name: "prepend", rule: []UserAgentOption{WithMergeRule(MergePrepend)}, ctx: feature, existing: []string{sdk}, want: "acme_crew_gen/0.1.0 " + sdk},
		{name: "replace", rule: []UserAgentOption{WithMergeRule(MergeReplace)}, ctx: feature, existing: []string{sdk}, want: "acme_crew_gen/0.1.0"},
		{name: "unknown rule appends", rule: []UserAgentOption{WithMergeRule(MergeRule(42))}, ctx: feature, existing: []string{sdk}, want: sdk + " acme_crew_gen/0.1.0"},
		{name: "append is idempotent", ctx: feature, existing: []string{sdk + " acme_crew_gen/0.1.0"}, want: sdk + " acme_crew_gen/0.1.0"},
		{name: "prepend is idempotent", rule: []UserAgentOption{WithMergeRule(MergePrepend)}, ctx: feature, existing: []string{"acme_crew_gen/0.1.0 " + sdk}, want: "acme_crew_gen/0.1.0 " + sdk},
		{name: "token in comment still added", ctx: feature, existing: []string{"x/1 (acme_crew_gen/0.1.0)"}, want: "x/1 (acme_crew_gen/0.1.0) acme_crew_gen/0.1.0"},
		{name: "other feature still added", ctx: feature, existing: []string{"acme_other/0.1.0"}, want: "acme_other/0.1.0 acme_crew_gen/0.1.0"},
		{name: "several values merge into one", ctx: feature, existing: []string{"a/1", "b/2"}, want: "a/1 b/2 acme_crew_gen/0.1.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := sentUserAgent(t, func(next http.RoundTripper) http.RoundTripper {
				return UserAgent(next, testApp(t), tt.rule...)
			}, tt.ctx, tt.existing)
			assert.Equal(t, []string{tt.want}, got)
		})
	}
}

func TestUserAgentZeroAppKeepsHeader(t *testing.T) {
	got := sentUserAgent(t, func(next http.RoundTripper) http.RoundTripper {
		return UserAgent(next, product.App{})
	}, context.Background(), []string{"caller/1.0"})
	assert.Equal(t, []string{"caller/1.0"}, got)

	got = sentUserAgent(t, func(next http.RoundTripper) http.RoundTripper {
		return UserAgent(next, product.App{})
	}, product.NewContext(context.Background(), testProduct(t, "chat")), []string{"caller/1.0"})
	assert.Equal(t, []string{"caller/1.0 acme_chat/0.1.0"}, got)
}

func TestUserAgentTwiceAddsTokenOnce(t *testing.T) {
	// Two UserAgent layers stand for a request that re-enters the stack,
	// as a retry of the same request does.
	got := sentUserAgent(t, func(next http.RoundTripper) http.RoundTripper {
		return UserAgent(UserAgent(next, testApp(t)), testApp(t))
	}, product.NewContext(context.Background(), testProduct(t, "chat")), []string{"sdk/1.0"})
	assert.Equal(t, []string{"sdk/1.0 acme_chat/0.1.0"}, got)
}

func TestUserAgentRedirectAddsTokenOnce(t *testing.T) {
	var seen []string
	final := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Header.Get("User-Agent"))
		w.WriteHeader(http.StatusNoContent)
	}))
	start := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Header.Get("User-Agent"))
		http.Redirect(w, r, final.URL+"/next", http.StatusTemporaryRedirect)
	}))

	client := &http.Client{Transport: UserAgent(newLoopbackTransport(t), testApp(t))}
	req, err := http.NewRequestWithContext(product.NewContext(context.Background(), testProduct(t, "chat")), http.MethodGet, start.URL, nil)
	require.NoError(t, err)
	req.Header.Set("User-Agent", "sdk/1.0")

	resp, err := client.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	require.NoError(t, resp.Body.Close())

	assert.Equal(t, []string{"sdk/1.0 acme_chat/0.1.0", "sdk/1.0 acme_chat/0.1.0"}, seen)
	assert.Equal(t, "sdk/1.0", req.Header.Get("User-Agent"))
}

func TestMergeRuleString(t *testing.T) {
	assert.Equal(t, "append", MergeAppend.String())
	assert.Equal(t, "prepend", MergePrepend.String())
	assert.Equal(t, "replace", MergeReplace.String())
	assert.Equal(t, "MergeRule(7)", MergeRule(7).String())
}
