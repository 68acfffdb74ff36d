package otelsink_test

import (
	"context"
	"fmt"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/httpmeter/httpmeter/authctx"
	"github.com/httpmeter/httpmeter/usage"
	"github.com/httpmeter/httpmeter/usage/otelsink"
)

// This example records one event through a Sender into an SDK
// MeterProvider, then reads the histogram back with a manual reader. A
// service would use a periodic reader with an OTLP exporter instead.
func Example() {
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer func() { _ = provider.Shutdown(context.Background()) }()

	sink, err := otelsink.New(provider)
	if err != nil {
		fmt.Println(err)
		return
	}
	sender := usage.NewSender(sink)

	sender.Record(usage.Event{
		Credential: authctx.Credential{Token: "dapi-secret", Subject: "alice@example.com"},
		Host:       "api.openai.com",
		Path:       "/v1/chat/completions",
		Provider:   "openai",
		Model:      "gpt-4o-2024-08-06",
		Usage:      usage.Usage{InputTokens: 120, OutputTokens: 30, TotalTokens: 150},
		Source:     usage.SourceReported,
		Complete:   true,
	})

	// Close delivers the event to the sink before it returns.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := sender.Close(ctx); err != nil {
		fmt.Println(err)
		return
	}

	var metrics metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &metrics); err != nil {
		fmt.Println(err)
		return
	}
	for _, scope := range metrics.ScopeMetrics {
		for _, m := range scope.Metrics {
			histogram, ok := m.Data.(metricdata.Histogram[int64])
			if !ok {
				continue
			}
			for _, point := range histogram.DataPoints {
				tokenType, _ := point.Attributes.Value("gen_ai.token.type")
				model, _ := point.Attributes.Value("gen_ai.response.model")
				fmt.Printf("%s gen_ai.token.type=%s model=%s sum=%d\n", m.Name, tokenType.AsString(), model.AsString(), point.Sum)
			}
		}
	}

	// Unordered output:
	// gen_ai.client.token.usage gen_ai.token.type=input model=gpt-4o-2024-08-06 sum=120
	// gen_ai.client.token.usage gen_ai.token.type=output model=gpt-4o-2024-08-06 sum=30
}
