package httpmeter_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/httpmeter/httpmeter"
	"github.com/httpmeter/httpmeter/authctx"
	"github.com/httpmeter/httpmeter/internal/testservers"
	"github.com/httpmeter/httpmeter/product"
	"github.com/httpmeter/httpmeter/usage"
)

// openAIUserAgent is the User-Agent that openai-go v3.105.0 sets itself.
const openAIUserAgent = "OpenAI/Go 3.105.0"

// requestModel is the model the tests ask for. openai-go marks its
// constant for this model deprecated, and the loopback servers accept
// any model the request names.
const requestModel = openai.ChatModel("gpt-4o-mini")

// openAICall sends one request with the official OpenAI client, reads the
// whole response as an application would, and returns the client's error.
type openAICall func(ctx context.Context, client openai.Client) error

// openAICallFor returns the client call whose response format matches c's
// body, or nil when the body is not in a format of the OpenAI API. Bodies
// of other APIs (Anthropic, Gemini, Bedrock, Cohere, Ollama's native API)
// are covered by the extractor's own tests.
func openAICallFor(c testservers.Case) openAICall {
	name := c.File
	stream := strings.HasSuffix(name, ".sse")
	switch {
	case strings.HasPrefix(name, "openai-responses"):
		if stream {
			return streamResponse
		}
		return createResponse
	case strings.HasPrefix(name, "openai-completions"):
		if stream {
			return streamCompletion
		}
		return createCompletion
	case strings.HasPrefix(name, "openai-error-"):
		return createChatCompletion
	case strings.Contains(name, "-embeddings"):
		return createEmbeddings
	case strings.HasPrefix(name, "cohere-"), strings.HasPrefix(name, "anthropic-"):
		return nil
	case strings.Contains(name, "-chat"):
		if stream {
			return streamChatCompletion
		}
		return createChatCompletion
	}
	return nil
}

func createChatCompletion(ctx context.Context, client openai.Client) error {
	_, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model:    requestModel,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Summarize the report.")},
	})
	return err
}

func streamChatCompletion(ctx context.Context, client openai.Client) error {
	stream := client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
		Model:         requestModel,
		Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Summarize the report.")},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	})
	defer stream.Close()

	var accumulated openai.ChatCompletionAccumulator
	for stream.Next() {
		accumulated.AddChunk(stream.Current())
	}
	return stream.Err()
}

func createEmbeddings(ctx context.Context, client openai.Client) error {
	_, err := client.Embeddings.New(ctx, openai.EmbeddingNewParams{
		Model: openai.EmbeddingModelTextEmbedding3Small,
		Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"first document", "second document"}},
	})
	return err
}

func createCompletion(ctx context.Context, client openai.Client) error {
	_, err := client.Completions.New(ctx, openai.CompletionNewParams{
		Model:  openai.CompletionNewParamsModelGPT3_5TurboInstruct,
		Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String("Say this is a test")},
	})
	return err
}

func streamCompletion(ctx context.Context, client openai.Client) error {
	stream := client.Completions.NewStreaming(ctx, openai.CompletionNewParams{
		Model:         openai.CompletionNewParamsModelGPT3_5TurboInstruct,
		Prompt:        openai.CompletionNewParamsPromptUnion{OfString: openai.String("Say this is a test")},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	})
	defer stream.Close()

	for stream.Next() {
	}
	return stream.Err()
}

func createResponse(ctx context.Context, client openai.Client) error {
	_, err := client.Responses.New(ctx, responses.ResponseNewParams{
		Model: requestModel,
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("Summarize the report.")},
	})
	return err
}

func streamResponse(ctx context.Context, client openai.Client) error {
	stream := client.Responses.NewStreaming(ctx, responses.ResponseNewParams{
		Model: requestModel,
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("Summarize the report.")},
	})
	defer stream.Close()

	for stream.Next() {
	}
	return stream.Err()
}

// newOpenAIClient returns the official client sending through stack to
// baseURL. It sets no API key, so the only Authorization is the one the
// stack adds, and it does not retry, so each call is one request.
func newOpenAIClient(stack http.RoundTripper, baseURL string) openai.Client {
	return openai.NewClient(
		option.WithBaseURL(baseURL+"/v1/"),
		option.WithHTTPClient(&http.Client{Transport: stack}),
		option.WithAPIKey(""),
		option.WithMaxRetries(0),
	)
}

func TestOpenAIClientThroughStack(t *testing.T) {
	sets, skipCorpus := loadManifests(t)
	if skipCorpus != nil {
		t.Run("corpus", skipCorpus)
	}

	for _, set := range sets {
		for _, c := range set.cases {
			call := openAICallFor(c)
			if call == nil {
				continue
			}
			t.Run(set.name+"/"+c.File, func(t *testing.T) {
				t.Parallel()
				testOpenAICase(t, c, call)
			})
		}
	}
}

func testOpenAICase(t *testing.T, c testservers.Case, call openAICall) {
	body, err := c.Body()
	require.NoError(t, err)
	server := testservers.NewServer(testservers.Replay(body))
	defer server.Close()

	watch := newSecretWatch(t)
	app := newApp(t)
	chat := newProduct(t, app, "chat_assist")
	credential := authctx.Credential{
		Token:   watch.Token("alice"),
		Method:  authctx.MethodOnBehalfOf,
		Subject: "alice@example.com",
		Host:    server.URL,
	}

	var events eventLog
	stack, err := httpmeter.New(newBaseTransport(t), httpmeter.Config{
		App:            app,
		AllowedOrigins: []string{server.URL},
		Recorder:       &events,
		Logger:         watch.Logger(),
	})
	require.NoError(t, err)

	ctx := authctx.NewContext(product.NewContext(t.Context(), chat), credential)
	callErr := call(ctx, newOpenAIClient(stack, server.URL))
	watch.Error(callErr)

	requests := server.Requests()
	require.Len(t, requests, 1, "the client must send exactly one request")
	assert.Equal(t, openAIUserAgent+" acme_chat_assist/0.1.0", requests[0].UserAgent())
	assert.Equal(t, "Bearer "+credential.Token, requests[0].Authorization(), "the stack must send the user's token")

	if c.Status() != http.StatusOK {
		var apiErr *openai.Error
		require.ErrorAs(t, callErr, &apiErr)
		assert.Equal(t, c.Status(), apiErr.StatusCode)
		assert.Empty(t, events.Events(), "an error response must not be metered")
		return
	}

	recorded := events.Events()
	require.Len(t, recorded, 1, "one response must produce exactly one event")
	event := recorded[0]

	assert.Equal(t, c.Usage, withoutRaw(event.Usage), "normalized usage")
	if c.Reported {
		assert.Equal(t, usage.SourceReported, event.Source)
	} else {
		assert.Equal(t, usage.SourceMissing, event.Source)
	}
	assert.Equal(t, c.Model, event.Model)
	assert.Equal(t, chat, event.Product)
	assert.Equal(t, credential, event.Credential, "the event must carry the credential that authenticated the request")
	assert.Equal(t, http.StatusOK, event.Status)
	assert.Equal(t, 1, event.Count)
	assert.True(t, strings.HasPrefix(event.Path, "/v1/"), "event path %q", event.Path)

	// A stream that reports an error inside its 200 response ends the
	// client's iteration with an error, and its event is incomplete.
	if callErr != nil {
		assert.False(t, event.Complete, "the client failed with %v, so the event must be incomplete", callErr)
		return
	}
	assert.Equal(t, c.Complete, event.Complete, "completeness")
}

// withoutRaw returns u without its raw provider object, for comparing the
// normalized counts.
func withoutRaw(u usage.Usage) usage.Usage {
	u.Raw = nil
	return u
}
