package authctx_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/httpmeter/httpmeter/authctx"
)

// These benchmarks measure the per-request cost on the hot path, where the
// credential is in the context or cached.

func BenchmarkChainFromContext(b *testing.B) {
	chain := authctx.Chain(authctx.FromContextProvider{}, authctx.Env(authctx.WithLookupEnv(mapEnv(nil))))
	ctx := authctx.NewContext(context.Background(), testCredential())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := chain.Credential(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStoredTokenCached(b *testing.B) {
	p, err := authctx.NewStoredToken((&tokenStore{}).lookup,
		authctx.WithWorkspaceKey(contextString(workspaceKey{})), authctx.WithGroupKey(contextString(groupKey{})))
	if err != nil {
		b.Fatal(err)
	}
	ctx := withKeys(context.Background(), "ws1", "team-a")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := p.Credential(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkOAuthM2MCached(b *testing.B) {
	ts := &tokenServer{expiresIn: 3600}
	ts.Server = httptest.NewServer(http.HandlerFunc(ts.serve))
	defer ts.Close()
	p, err := authctx.NewOAuthM2M(ts.URL, oauthClientID, oauthClientSecret)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := p.Credential(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(ts.calls.Load()), "token-requests")
}

func BenchmarkMiddlewareTrusted(b *testing.B) {
	h := authctx.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}),
		authctx.TrustForwardedHeaders(), authctx.WithWorkspaceHost("https://adb-123.azuredatabricks.net"))
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("X-Forwarded-Access-Token", forwardedToken)
	req.Header.Set("X-Forwarded-Email", "ada@example.com")
	rec := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(rec, req)
	}
}
