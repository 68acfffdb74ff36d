package usage_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/httpmeter/httpmeter/authctx"
	"github.com/httpmeter/httpmeter/product"
	"github.com/httpmeter/httpmeter/usage"
)

// This example delivers events to a log/slog sink. In a service the
// transport calls Record; here the event is built by hand.
func ExampleSender() {
	handler := slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && (a.Key == slog.TimeKey || a.Key == "time" || a.Key == "duration") {
				return slog.Attr{}
			}
			return a
		},
	})
	sender := usage.NewSender(usage.NewSlogSink(slog.New(handler)))

	app, err := product.NewApp("acme", "0.1.0")
	if err != nil {
		fmt.Println(err)
		return
	}
	feature, err := app.Product("crew_gen")
	if err != nil {
		fmt.Println(err)
		return
	}

	sender.Record(usage.Event{
		ID:         "evt-1",
		Product:    feature,
		Credential: authctx.Credential{Token: "dapi-secret", Subject: "alice@example.com"},
		Model:      "gpt-4o",
		Usage:      usage.Usage{InputTokens: 120, OutputTokens: 30, TotalTokens: 150},
		Source:     usage.SourceReported,
		Complete:   true,
	})

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := sender.Close(ctx); err != nil {
		fmt.Println(err)
	}
	fmt.Printf("sent %d\n", sender.Stats().Sent)

	// Output:
	// level=INFO msg="usage event" id=evt-1 product=acme_crew_gen/0.1.0 subject=alice@example.com workspace="" credential_method="" method="" host="" path="" status=0 provider="" model=gpt-4o source=reported complete=true count=1 usage.input_tokens=120 usage.output_tokens=30 usage.total_tokens=150 usage.cached_input_tokens=0 usage.cache_creation_input_tokens=0 usage.reasoning_tokens=0
	// sent 1
}

// This example parses the User-Agent of a usage beacon back into its fields.
// The model name contains a '/' and a space, which the beacon escapes.
func ExampleParseBeaconUserAgent() {
	header := usage.BeaconUserAgent{
		App: "acme", Version: "0.1.0", Feature: "crew_gen",
		Model: "meta/llama 3", InputTokens: 120, OutputTokens: 30,
	}.String()
	fmt.Println(header)

	fields, err := usage.ParseBeaconUserAgent(header)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s %q %d\n", fields.Feature, fields.Model, fields.InputTokens)

	// Output:
	// acme_telemetry/0.1.0/crew_gen/model=meta%2Fllama%203/input_tokens=120/output_tokens=30
	// crew_gen "meta/llama 3" 120
}
