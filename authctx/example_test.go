package authctx_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/httpmeter/httpmeter/authctx"
)

func ExampleNewContext() {
	ctx := authctx.NewContext(context.Background(), authctx.Credential{
		Token:   "dapi-example-token",
		Method:  authctx.MethodOnBehalfOf,
		Subject: "ada@example.com",
		Host:    "https://adb-123.azuredatabricks.net",
	})

	c, ok := authctx.FromContext(ctx)
	fmt.Println(ok, c.Subject)
	fmt.Println(c) // printing never shows the token

	_, ok = authctx.FromContext(context.Background())
	fmt.Println(ok)
	// Output:
	// true ada@example.com
	// authctx.Credential{Method: "on-behalf-of", Subject: "ada@example.com", Host: "https://adb-123.azuredatabricks.net", Token: REDACTED}
	// false
}

func ExampleChain() {
	// The environment is a map here; by default Env reads os.LookupEnv.
	environment := map[string]string{
		"DATABRICKS_HOST":  "adb-123.azuredatabricks.net/",
		"DATABRICKS_TOKEN": "dapi-example-token",
	}
	env := authctx.Env(authctx.WithLookupEnv(func(key string) (string, bool) {
		v, ok := environment[key]
		return v, ok
	}))
	chain := authctx.Chain(authctx.FromContextProvider{}, env)

	c, resolution, err := chain.Resolve(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Method, c.Host)
	fmt.Println(resolution)
	// Output:
	// env https://adb-123.azuredatabricks.net
	// env (skipped: context: no credential in context)
}

func ExampleMiddleware() {
	handler := authctx.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := authctx.FromContext(r.Context())
		id, _ := authctx.IdentityFromContext(r.Context())
		fmt.Println(ok, c.Method, c.Subject, c.Host, id.RequestID)
		fmt.Printf("token header seen by the handler: %q\n", r.Header.Get("X-Forwarded-Access-Token"))
	}), authctx.TrustForwardedHeaders(), authctx.WithWorkspaceHost("https://adb-123.azuredatabricks.net"))

	req := httptest.NewRequest(http.MethodGet, "/api/chat", nil)
	req.Header.Set("X-Forwarded-Access-Token", "eyJ.example.token")
	req.Header.Set("X-Forwarded-Email", "ada@example.com")
	req.Header.Set("X-Request-Id", "req-42")
	handler.ServeHTTP(httptest.NewRecorder(), req)

	// Without TrustForwardedHeaders the same request carries no credential.
	untrusted := authctx.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, ok := authctx.FromContext(r.Context())
		_, reason := authctx.IdentityFromContext(r.Context())
		fmt.Println(ok, reason)
	}))
	untrusted.ServeHTTP(httptest.NewRecorder(), req)
	// Output:
	// true on-behalf-of ada@example.com https://adb-123.azuredatabricks.net req-42
	// token header seen by the handler: ""
	// false authctx: forwarded identity headers are not trusted; pass authctx.TrustForwardedHeaders() to Middleware when the app runs behind the Databricks Apps proxy
}

func ExampleGo() {
	requestCtx, endRequest := context.WithCancel(authctx.NewContext(context.Background(), authctx.Credential{
		Token:   "dapi-example-token",
		Subject: "ada@example.com",
	}))
	done := make(chan struct{})

	// The request ends, but work started for it keeps the user's credential
	// and is not cancelled with it.
	endRequest()
	authctx.Go(requestCtx, func(ctx context.Context) {
		defer close(done)
		c, ok := authctx.FromContext(ctx)
		fmt.Println("authctx.Go:", ok, c.Subject, ctx.Err())
	})
	<-done

	// A bare go statement with a fresh context has no credential, so a chain
	// of context providers, like a Bearer transport without a fallback
	// provider, fails closed.
	bareDone := make(chan struct{})
	go func() {
		defer close(bareDone)
		ctx := context.Background()
		_, ok := authctx.FromContext(ctx)
		_, err := authctx.Chain(authctx.FromContextProvider{}).Credential(ctx)
		fmt.Println("bare go:", ok, err)
	}()
	<-bareDone
	// Output:
	// authctx.Go: true ada@example.com <nil>
	// bare go: false authctx: no credential from any provider (context: no credential in context)
}
