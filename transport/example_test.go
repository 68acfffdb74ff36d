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
	"github.com/httpmeter/httpmeter/usage"
)

// chatServer starts a local server that prints the headers it receives and
// returns a chat completion with usage.
func chatServer() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Printf("server got User-Agent %q\n", r.Header.Get("User-Agent"))
		fmt.Printf("server got Authorization %q\n", r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"object":"chat.completion","model":"gpt-4o-mini","choices":[],`+
			`"usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18}}`)
	}))
}

// printEvent is a usage.Recorder that prints the fields of each event.
var printEvent = usage.RecorderFunc(func(e usage.Event) {
	fmt.Printf("event: product %q, subject %q, model %s, %d input and %d output tokens\n",
		e.Product.UserAgent(), e.Credential.Subject, e.Model, e.Usage.InputTokens, e.Usage.OutputTokens)
})

// Example stacks the three layers in their usual order, outermost first:
// UserAgent, Bearer, Usage. It sends one chat completion request on behalf
// of a user whose credential and product travel in the request context.
func Example() {
	srv := chatServer()
	defer srv.Close()

	app, err := product.NewApp("acme", "0.1.0")
	if err != nil {
		fmt.Println(err)
		return
	}
	metered := transport.Usage(http.DefaultTransport, printEvent)
	bearer, err := transport.Bearer(metered, transport.AllowOrigins(srv.URL))
	if err != nil {
		fmt.Println(err)
		return
	}
	client := &http.Client{Transport: transport.UserAgent(bearer, app)}
	defer client.CloseIdleConnections()

	chat, err := app.Product("chat")
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := authctx.NewContext(context.Background(), authctx.Credential{Token: "user-token", Subject: "ada@example.com"})
	ctx = product.NewContext(ctx, chat)

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/chat/completions", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	resp, err := client.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body) // the event is recorded at EOF
	_ = resp.Body.Close()

	// Output:
	// server got User-Agent "acme_chat/0.1.0"
	// server got Authorization "Bearer user-token"
	// event: product "acme_chat/0.1.0", subject "ada@example.com", model gpt-4o-mini, 11 input and 7 output tokens
}

// ExampleChain stacks layers whose constructors return no error. The first
// layer is the outermost, so Chain(base, a, b) sends a request through a,
// then b, then base. The request carries no product and no credential, so
// the User-Agent is the application's own and the event has neither.
func ExampleChain() {
	srv := chatServer()
	defer srv.Close()

	app, err := product.NewApp("acme", "0.1.0")
	if err != nil {
		fmt.Println(err)
		return
	}
	client := &http.Client{Transport: transport.Chain(http.DefaultTransport,
		func(next http.RoundTripper) http.RoundTripper { return transport.UserAgent(next, app) },
		func(next http.RoundTripper) http.RoundTripper { return transport.Usage(next, printEvent) },
	)}
	defer client.CloseIdleConnections()

	resp, err := client.Get(srv.URL + "/v1/chat/completions")
	if err != nil {
		fmt.Println(err)
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()

	// Output:
	// server got User-Agent "acme/0.1.0"
	// server got Authorization ""
	// event: product "", subject "", model gpt-4o-mini, 11 input and 7 output tokens
}
