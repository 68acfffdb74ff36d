package transport_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/httpmeter/httpmeter/authctx"
	"github.com/httpmeter/httpmeter/product"
	"github.com/httpmeter/httpmeter/transport"
)

// authorizationServer starts a local server that prints the Authorization
// header it receives under the given name.
func authorizationServer(name string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Printf("%s got Authorization %q\n", name, r.Header.Get("Authorization"))
	}))
}

// ExampleBearer sends the same user's requests to two servers. Only the
// origin passed to AllowOrigins receives the user's token, so the other
// request leaves without an Authorization header.
func ExampleBearer() {
	workspace := authorizationServer("workspace")
	defer workspace.Close()
	other := authorizationServer("other")
	defer other.Close()

	bearer, err := transport.Bearer(http.DefaultTransport, transport.AllowOrigins(workspace.URL))
	if err != nil {
		fmt.Println(err)
		return
	}
	client := &http.Client{Transport: bearer}
	defer client.CloseIdleConnections()

	ctx := authctx.NewContext(context.Background(), authctx.Credential{Token: "user-token", Subject: "ada@example.com"})
	for _, url := range []string{workspace.URL, other.URL} {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			fmt.Println(err)
			return
		}
		resp, err := client.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}

	// Output:
	// workspace got Authorization "Bearer user-token"
	// other got Authorization ""
}

// ExampleUserAgent adds the product of the request's context to a
// User-Agent that an SDK has already set. MergeAppend, the default, keeps
// the SDK's token first. MergeReplace sends the product token alone.
func ExampleUserAgent() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Printf("server got User-Agent %q\n", r.Header.Get("User-Agent"))
	}))
	defer srv.Close()

	app, err := product.NewApp("acme", "0.1.0")
	if err != nil {
		fmt.Println(err)
		return
	}
	search, err := app.Product("search")
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := product.NewContext(context.Background(), search)

	for _, rule := range []transport.MergeRule{transport.MergeAppend, transport.MergeReplace} {
		client := &http.Client{Transport: transport.UserAgent(http.DefaultTransport, app, transport.WithMergeRule(rule))}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		if err != nil {
			fmt.Println(err)
			return
		}
		req.Header.Set("User-Agent", "databricks-sdk-go/0.100.0")

		resp, err := client.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		client.CloseIdleConnections()
	}

	// Output:
	// server got User-Agent "databricks-sdk-go/0.100.0 acme_search/0.1.0"
	// server got User-Agent "acme_search/0.1.0"
}
