package otelsink

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/semconv/v1.40.0/genaiconv"

	"github.com/httpmeter/httpmeter/usage"
)

var _ usage.Sink = (*Sink)(nil)

// instrumentationName is the name of the meter: the import path of the
// instrumenting package, as the OpenTelemetry API recommends.
const instrumentationName = "github.com/httpmeter/httpmeter/usage/otelsink"

// tokenUsageBuckets are the explicit bucket boundaries that the GenAI
// semantic conventions (v1.40.0) advise for gen_ai.client.token.usage.
var tokenUsageBuckets = []float64{1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864}

// Sink is a [usage.Sink] that records each event's input and output tokens in
// the histogram gen_ai.client.token.usage, with gen_ai.token.type "input" or
// "output" and the GenAI attributes gen_ai.operation.name,
// gen_ai.provider.name, gen_ai.request.model, gen_ai.response.model,
// server.address and server.port.
//
// Events whose Source is not SourceReported are skipped, because their counts
// are unknown, not zero. A folded total is recorded as one measurement of its
// summed counts, so histogram sums stay exact while its bucket counts see one
// large value. The user's identity is left off the attributes unless
// [WithSubject] opts in, which keeps metric cardinality bounded.
//
// A Sink is safe for concurrent use.
type Sink struct {
	histogram        genaiconv.ClientTokenUsage
	includeSubject   bool
	defaultOperation genaiconv.OperationNameAttr
}

// Option changes one setting of a [Sink].
type Option func(*Sink)

// WithSubject adds the credential's subject as the enduser.id attribute. Each
// user then gets a time series of their own, so enable it only when the
// number of users is small.
func WithSubject(include bool) Option {
	return func(s *Sink) { s.includeSubject = include }
}

// WithOperationName sets gen_ai.operation.name for events whose request path
// does not name the operation. The default is "chat".
func WithOperationName(name string) Option {
	return func(s *Sink) {
		if name != "" {
			s.defaultOperation = genaiconv.OperationNameAttr(name)
		}
	}
}

// New returns a Sink that records through a meter of provider.
func New(provider metric.MeterProvider, opts ...Option) (*Sink, error) {
	if provider == nil {
		return nil, fmt.Errorf("otelsink: the MeterProvider is nil: pass otel.GetMeterProvider() or an SDK provider")
	}

	histogram, err := genaiconv.NewClientTokenUsage(provider.Meter(instrumentationName),
		metric.WithExplicitBucketBoundaries(tokenUsageBuckets...))
	if err != nil {
		return nil, fmt.Errorf("otelsink: creating the gen_ai.client.token.usage histogram: %w", err)
	}

	s := &Sink{histogram: histogram, defaultOperation: genaiconv.OperationNameChat}
	for _, opt := range opts {
		if opt != nil {
			opt(s)
		}
	}
	return s, nil
}

// Send records the usage of each event and always returns nil.
func (s *Sink) Send(ctx context.Context, events []usage.Event) error {
	for i := range events {
		e := &events[i]
		if e.Source != usage.SourceReported {
			continue
		}

		attrs := s.attributes(e)
		operation := operationName(e.Path, s.defaultOperation)
		provider := providerName(e.Provider)
		s.histogram.Record(ctx, e.Usage.InputTokens, operation, provider, genaiconv.TokenTypeInput, attrs...)
		s.histogram.Record(ctx, e.Usage.OutputTokens, operation, provider, genaiconv.TokenTypeOutput, attrs...)
	}
	return nil
}

// attributes returns the attributes shared by the input and output
// measurements of e. The event carries one model name, the response's where
// the body named one, so it fills both model attributes.
func (s *Sink) attributes(e *usage.Event) []attribute.KeyValue {
	attrs := make([]attribute.KeyValue, 0, 6)
	if e.Model != "" {
		attrs = append(attrs, s.histogram.AttrRequestModel(e.Model), s.histogram.AttrResponseModel(e.Model))
	}

	if e.Host != "" {
		host, port, err := net.SplitHostPort(e.Host)
		if err != nil {
			host, port = e.Host, ""
		}
		attrs = append(attrs, s.histogram.AttrServerAddress(host))
		if n, err := strconv.Atoi(port); err == nil {
			attrs = append(attrs, s.histogram.AttrServerPort(n))
		}
	}

	if s.includeSubject && e.Credential.Subject != "" {
		attrs = append(attrs, semconv.EnduserID(e.Credential.Subject))
	}
	return attrs
}

// providerName maps the provider names of package usage to the well-known
// values of gen_ai.provider.name. Others are passed through, and an empty
// name becomes "_OTHER".
func providerName(provider string) genaiconv.ProviderNameAttr {
	switch provider {
	case "":
		return "_OTHER"
	case "azure-openai":
		return genaiconv.ProviderNameAzureAIOpenAI
	case "gemini":
		return genaiconv.ProviderNameGCPGemini
	case "aws-bedrock":
		return genaiconv.ProviderNameAWSBedrock
	case "mistral":
		return genaiconv.ProviderNameMistralAI
	default:
		return genaiconv.ProviderNameAttr(provider)
	}
}

// operationName derives gen_ai.operation.name from the request path of the
// common LLM APIs, else returns fallback.
func operationName(path string, fallback genaiconv.OperationNameAttr) genaiconv.OperationNameAttr {
	switch {
	case strings.HasSuffix(path, "/embeddings"), strings.Contains(path, ":embedContent"), strings.Contains(path, ":batchEmbedContents"):
		return genaiconv.OperationNameEmbeddings
	case strings.Contains(path, ":generateContent"), strings.Contains(path, ":streamGenerateContent"):
		return genaiconv.OperationNameGenerateContent
	case strings.HasSuffix(path, "/chat/completions"), strings.HasSuffix(path, "/messages"), strings.HasSuffix(path, "/responses"):
		return genaiconv.OperationNameChat
	case strings.HasSuffix(path, "/completions"):
		return genaiconv.OperationNameTextCompletion
	default:
		return fallback
	}
}
