package usage_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/httpmeter/httpmeter/authctx"
	"github.com/httpmeter/httpmeter/usage"
)

// This example sends one batch to a collector on loopback. The body names
// the credential by its subject, never by its token, and the
// Idempotency-Key header stays the same on every retry of the batch.
func ExampleNewJSONSink() {
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var batch struct {
			Events []struct {
				ID      string      `json:"id"`
				Subject string      `json:"subject"`
				Model   string      `json:"model"`
				Usage   usage.Usage `json:"usage"`
			} `json:"events"`
		}
		if err := json.NewDecoder(r.Body).Decode(&batch); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Println("Idempotency-Key length:", len(r.Header.Get("Idempotency-Key")))
		for _, e := range batch.Events {
			fmt.Println(e.ID, e.Subject, e.Model, e.Usage.InputTokens, e.Usage.OutputTokens)
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer collector.Close()

	sink, err := usage.NewJSONSink(collector.URL + "/v1/usage")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sink.CloseIdleConnections()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = sink.Send(ctx, []usage.Event{{
		ID:         "evt-1",
		Credential: authctx.Credential{Token: "dapi-secret", Subject: "alice@example.com"},
		Model:      "gpt-4o",
		Usage:      usage.Usage{InputTokens: 120, OutputTokens: 30, TotalTokens: 150},
		Source:     usage.SourceReported,
		Complete:   true,
		Count:      1,
	}})
	fmt.Println("error:", err)

	// Output:
	// Idempotency-Key length: 64
	// evt-1 alice@example.com gpt-4o 120 30
	// error: <nil>
}
