package httpmeter_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"time"

	"github.com/databricks/databricks-sdk-go"
	"github.com/databricks/databricks-sdk-go/config"
	"github.com/databricks/databricks-sdk-go/service/serving"
	"github.com/hashicorp/go-retryablehttp"
	"github.com/jarcoal/httpmock"

	"github.com/httpmeter/httpmeter"
	"github.com/httpmeter/httpmeter/authctx"
	"github.com/httpmeter/httpmeter/product"
	"github.com/httpmeter/httpmeter/usage"
)

// chatCompletion is an OpenAI-format chat completion with a usage block, as
// an LLM endpoint returns it.
const chatCompletion = `{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-mini-2024-07-18",` +
	`"choices":[{"index":0,"message":{"role":"assistant","content":"Hello."},"finish_reason":"stop"}],` +
	`"usage":{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17}}`

// printUsage is a Recorder that prints each event. A real application
// passes a usage.Sender instead, which delivers events in the background.
var printUsage = usage.RecorderFunc(func(e usage.Event) {
	name := e.Product.UserAgent()
	if name == "" {
		name = "no product"
	}
	fmt.Printf("metered: %s, %s, %d input + %d output tokens, subject %q\n",
		name, e.Model, e.Usage.InputTokens, e.Usage.OutputTokens, e.Credential.Subject)
})

// lastProduct returns the last product token of a User-Agent.
func lastProduct(userAgent string) string {
	return userAgent[strings.LastIndex(userAgent, " ")+1:]
}

// ExampleNew sends one request with a plain http.Client. The user's
// credential and the feature's product travel in the request's context.
func ExampleNew() {
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println("User-Agent:", r.Header.Get("User-Agent"))
		fmt.Println("bearer token is alice's:", r.Header.Get("Authorization") == "Bearer token-of-alice")
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, chatCompletion)
	}))
	defer server.Close()

	app, err := product.NewApp("acme", "0.1.0")
	if err != nil {
		log.Fatal(err)
	}
	stack, err := httpmeter.New(http.DefaultTransport, httpmeter.Config{
		App:            app,
		AllowedOrigins: []string{server.URL},
		Recorder:       printUsage,
	})
	if err != nil {
		log.Fatal(err)
	}
	client := &http.Client{Transport: stack}

	summarize, err := app.Product("summarize")
	if err != nil {
		log.Fatal(err)
	}
	ctx := product.NewContext(context.Background(), summarize)
	ctx = authctx.NewContext(ctx, authctx.Credential{Token: "token-of-alice", Subject: "alice@example.com"})

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, server.URL+"/v1/chat/completions",
		strings.NewReader(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}`))
	if err != nil {
		log.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()

	// The event is recorded when the body reaches EOF.
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		log.Fatal(err)
	}
	// Output:
	// User-Agent: acme_summarize/0.1.0
	// bearer token is alice's: true
	// metered: acme_summarize/0.1.0, gpt-4o-mini-2024-07-18, 12 input + 5 output tokens, subject "alice@example.com"
}

// Example_databricksSDK puts the stack under a Databricks SDK WorkspaceClient.
// The SDK keeps its own User-Agent and Authorization; the stack appends the
// product token and meters the serving-endpoint query.
func Example_databricksSDK() {
	workspace := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println(r.Method, r.URL.Path)
		fmt.Println("last User-Agent product:", lastProduct(r.Header.Get("User-Agent")))
		fmt.Println("SDK's own token kept:", r.Header.Get("Authorization") == "Bearer dapi-example")
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, chatCompletion)
	}))
	defer workspace.Close()

	app, err := product.NewApp("acme", "0.1.0")
	if err != nil {
		log.Fatal(err)
	}
	stack, err := httpmeter.New(http.DefaultTransport, httpmeter.Config{
		App:            app,
		AllowedOrigins: []string{workspace.URL},
		Recorder:       printUsage,
	})
	if err != nil {
		log.Fatal(err)
	}

	client, err := databricks.NewWorkspaceClient(&databricks.Config{
		Host:          workspace.URL,
		Token:         "dapi-example",
		Credentials:   config.PatCredentials{},
		HTTPTransport: stack,
	})
	if err != nil {
		log.Fatal(err)
	}

	assistant, err := app.Product("assistant")
	if err != nil {
		log.Fatal(err)
	}
	ctx := product.NewContext(context.Background(), assistant)
	_, err = client.ServingEndpoints.Query(ctx, serving.QueryEndpointInput{
		Name:     "chat",
		Messages: []serving.ChatMessage{{Role: serving.ChatMessageRoleUser, Content: "Hi"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// POST /serving-endpoints/chat/invocations
	// last User-Agent product: acme_assistant/0.1.0
	// SDK's own token kept: true
	// metered: acme_assistant/0.1.0, gpt-4o-mini-2024-07-18, 12 input + 5 output tokens, subject ""
}

// Example_retryablehttp puts the stack under go-retryablehttp. Each attempt
// passes through the stack, and only the successful one is metered.
func Example_retryablehttp() {
	var attempts atomic.Int32
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if attempts.Add(1) == 1 {
			fmt.Println("attempt 1: 503")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		fmt.Println("attempt 2: 200")
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, chatCompletion)
	}))
	defer server.Close()

	app, err := product.NewApp("acme", "0.1.0")
	if err != nil {
		log.Fatal(err)
	}
	client := retryablehttp.NewClient()
	client.Logger = nil
	client.RetryWaitMin = time.Millisecond
	client.RetryWaitMax = 10 * time.Millisecond
	defer client.HTTPClient.CloseIdleConnections()

	stack, err := httpmeter.New(client.HTTPClient.Transport, httpmeter.Config{
		App:            app,
		AllowedOrigins: []string{server.URL},
		Recorder:       printUsage,
	})
	if err != nil {
		log.Fatal(err)
	}
	client.HTTPClient.Transport = stack

	batch, err := app.Product("batch")
	if err != nil {
		log.Fatal(err)
	}
	ctx := product.NewContext(context.Background(), batch)
	ctx = authctx.NewContext(ctx, authctx.Credential{Token: "token-of-bob", Subject: "bob@example.com"})
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, server.URL+"/v1/chat/completions",
		strings.NewReader(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}`))
	if err != nil {
		log.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()

	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		log.Fatal(err)
	}
	// Output:
	// attempt 1: 503
	// attempt 2: 200
	// metered: acme_batch/0.1.0, gpt-4o-mini-2024-07-18, 12 input + 5 output tokens, subject "bob@example.com"
}

// Example_httpmock builds the stack on a nil base, so it sends through
// whatever http.DefaultTransport is at request time. httpmock.Activate,
// called after New, then still intercepts the requests. The request's
// context has no product, so the User-Agent carries the application's own
// token and the event carries the application itself as its product.
func Example_httpmock() {
	app, err := product.NewApp("acme", "0.1.0")
	if err != nil {
		log.Fatal(err)
	}
	stack, err := httpmeter.New(nil, httpmeter.Config{
		App:            app,
		AllowedOrigins: []string{"https://adb-123.example.net"},
		Recorder:       printUsage,
	})
	if err != nil {
		log.Fatal(err)
	}
	client := &http.Client{Transport: stack}

	httpmock.Activate()
	defer httpmock.DeactivateAndReset()
	httpmock.RegisterResponder(http.MethodPost, "https://adb-123.example.net/serving-endpoints/chat/invocations",
		func(req *http.Request) (*http.Response, error) {
			fmt.Println("mock got User-Agent:", req.Header.Get("User-Agent"))
			fmt.Println("mock got carol's token:", req.Header.Get("Authorization") == "Bearer token-of-carol")
			resp := httpmock.NewStringResponse(http.StatusOK, chatCompletion)
			resp.Header.Set("Content-Type", "application/json")
			return resp, nil
		})

	ctx := authctx.NewContext(context.Background(), authctx.Credential{Token: "token-of-carol", Subject: "carol@example.com"})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://adb-123.example.net/serving-endpoints/chat/invocations",
		strings.NewReader(`{"messages":[{"role":"user","content":"Hi"}]}`))
	if err != nil {
		log.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()

	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		log.Fatal(err)
	}
	fmt.Println("calls intercepted:", httpmock.GetTotalCallCount())
	// Output:
	// mock got User-Agent: acme/0.1.0
	// mock got carol's token: true
	// metered: acme/0.1.0, gpt-4o-mini-2024-07-18, 12 input + 5 output tokens, subject "carol@example.com"
	// calls intercepted: 1
}
