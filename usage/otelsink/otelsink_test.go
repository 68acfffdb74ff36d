package otelsink

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/goleak"

	"github.com/httpmeter/httpmeter/authctx"
	"github.com/httpmeter/httpmeter/product"
	"github.com/httpmeter/httpmeter/usage"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func newTestSink(t *testing.T, opts ...Option) (*Sink, *sdkmetric.ManualReader) {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { require.NoError(t, provider.Shutdown(context.Background())) })

	sink, err := New(provider, opts...)
	require.NoError(t, err)
	return sink, reader
}

func testEvent(t *testing.T, subject, model string, input, output int64) usage.Event {
	t.Helper()
	app, err := product.NewApp("acme", "0.1.0")
	require.NoError(t, err)
	p, err := app.Product("chat")
	require.NoError(t, err)
	return usage.Event{
		ID:         "id-" + subject,
		Product:    p,
		Credential: authctx.Credential{Token: "secret-" + subject, Subject: subject, Host: "https://workspace.example.com"},
		Host:       "api.openai.com:443",
		Path:       "/v1/chat/completions",
		Provider:   "openai",
		Model:      model,
		Usage:      usage.Usage{InputTokens: input, OutputTokens: output, TotalTokens: input + output},
		Source:     usage.SourceReported,
		Complete:   true,
		Count:      1,
	}
}

// collectTokenUsage returns the data points of gen_ai.client.token.usage.
func collectTokenUsage(t *testing.T, reader *sdkmetric.ManualReader) (metricdata.Metrics, []metricdata.HistogramDataPoint[int64]) {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	for _, scope := range rm.ScopeMetrics {
		for _, m := range scope.Metrics {
			if m.Name == "gen_ai.client.token.usage" {
				histogram, ok := m.Data.(metricdata.Histogram[int64])
				require.True(t, ok, "data is %T", m.Data)
				return m, histogram.DataPoints
			}
		}
	}
	t.Fatal("gen_ai.client.token.usage was not recorded")
	return metricdata.Metrics{}, nil
}

func pointByTokenType(t *testing.T, points []metricdata.HistogramDataPoint[int64], tokenType string) metricdata.HistogramDataPoint[int64] {
	t.Helper()
	for _, p := range points {
		if v, ok := p.Attributes.Value("gen_ai.token.type"); ok && v.AsString() == tokenType {
			return p
		}
	}
	t.Fatalf("no data point with gen_ai.token.type=%s", tokenType)
	return metricdata.HistogramDataPoint[int64]{}
}

func TestSinkRecordsTokenUsage(t *testing.T) {
	sink, reader := newTestSink(t)
	events := []usage.Event{testEvent(t, "alice", "gpt-4o", 100, 20), testEvent(t, "bob", "gpt-4o", 50, 5)}
	require.NoError(t, sink.Send(context.Background(), events))

	m, points := collectTokenUsage(t, reader)
	assert.Equal(t, "{token}", m.Unit)
	require.Len(t, points, 2)

	input := pointByTokenType(t, points, "input")
	assert.Equal(t, uint64(2), input.Count)
	assert.Equal(t, int64(150), input.Sum)
	assert.Equal(t, []float64{1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864}, input.Bounds)

	output := pointByTokenType(t, points, "output")
	assert.Equal(t, int64(25), output.Sum)

	want := map[attribute.Key]string{
		"gen_ai.operation.name": "chat",
		"gen_ai.provider.name":  "openai",
		"gen_ai.request.model":  "gpt-4o",
		"gen_ai.response.model": "gpt-4o",
		"server.address":        "api.openai.com",
	}
	for key, value := range want {
		got, ok := input.Attributes.Value(key)
		assert.True(t, ok, "attribute %s missing", key)
		assert.Equal(t, value, got.String(), "attribute %s", key)
	}
	port, ok := input.Attributes.Value("server.port")
	assert.True(t, ok)
	assert.Equal(t, int64(443), port.AsInt64())
}

func TestSinkLeavesSubjectOffByDefault(t *testing.T) {
	sink, reader := newTestSink(t)
	require.NoError(t, sink.Send(context.Background(), []usage.Event{testEvent(t, "alice", "m", 1, 1)}))

	_, points := collectTokenUsage(t, reader)
	for _, p := range points {
		_, ok := p.Attributes.Value("enduser.id")
		assert.False(t, ok)
		for _, kv := range p.Attributes.ToSlice() {
			assert.NotContains(t, kv.Value.String(), "alice")
			assert.NotContains(t, kv.Value.String(), "secret")
		}
	}
}

func TestSinkAddsSubjectWhenEnabled(t *testing.T) {
	sink, reader := newTestSink(t, WithSubject(true))
	require.NoError(t, sink.Send(context.Background(), []usage.Event{testEvent(t, "alice", "m", 1, 1), testEvent(t, "bob", "m", 1, 1)}))

	_, points := collectTokenUsage(t, reader)
	assert.Len(t, points, 4)
	subjects := map[string]bool{}
	for _, p := range points {
		v, ok := p.Attributes.Value("enduser.id")
		require.True(t, ok)
		subjects[v.AsString()] = true
	}
	assert.Equal(t, map[string]bool{"alice": true, "bob": true}, subjects)
}

func TestSinkSkipsMissingUsage(t *testing.T) {
	sink, reader := newTestSink(t)
	missing := testEvent(t, "alice", "m", 0, 0)
	missing.Source = usage.SourceMissing
	require.NoError(t, sink.Send(context.Background(), []usage.Event{missing, testEvent(t, "bob", "m", 7, 3)}))

	_, points := collectTokenUsage(t, reader)
	assert.Equal(t, uint64(1), pointByTokenType(t, points, "input").Count)
	assert.Equal(t, int64(7), pointByTokenType(t, points, "input").Sum)
}

func TestSinkMapsProviderAndOperation(t *testing.T) {
	cases := []struct {
		provider, path, wantProvider, wantOperation string
	}{
		{"azure-openai", "/openai/deployments/d/chat/completions", "azure.ai.openai", "chat"},
		{"gemini", "/v1beta/models/gemini-2.0:generateContent", "gcp.gemini", "generate_content"},
		{"aws-bedrock", "/model/m/converse", "aws.bedrock", "chat"},
		{"anthropic", "/v1/messages", "anthropic", "chat"},
		{"openai", "/v1/embeddings", "openai", "embeddings"},
		{"openai", "/v1/completions", "openai", "text_completion"},
		{"", "/serving-endpoints/x/invocations", "_OTHER", "chat"},
	}
	for _, tc := range cases {
		t.Run(tc.provider+tc.path, func(t *testing.T) {
			sink, reader := newTestSink(t)
			e := testEvent(t, "alice", "m", 1, 1)
			e.Provider, e.Path = tc.provider, tc.path
			require.NoError(t, sink.Send(context.Background(), []usage.Event{e}))

			_, points := collectTokenUsage(t, reader)
			input := pointByTokenType(t, points, "input")
			provider, _ := input.Attributes.Value("gen_ai.provider.name")
			operation, _ := input.Attributes.Value("gen_ai.operation.name")
			assert.Equal(t, tc.wantProvider, provider.AsString())
			assert.Equal(t, tc.wantOperation, operation.AsString())
		})
	}
}

func TestSinkThroughSender(t *testing.T) {
	sink, reader := newTestSink(t)
	sender := usage.NewSender(sink)
	for range 10 {
		sender.Record(testEvent(t, "alice", "m", 3, 2))
	}
	require.NoError(t, sender.Close(context.Background()))

	_, points := collectTokenUsage(t, reader)
	assert.Equal(t, int64(30), pointByTokenType(t, points, "input").Sum)
	assert.Equal(t, int64(20), pointByTokenType(t, points, "output").Sum)
}

func TestNewRejectsNilProvider(t *testing.T) {
	_, err := New(nil)
	assert.Error(t, err)
}
