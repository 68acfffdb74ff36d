package httpmeter_test

import (
	"bytes"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/httpmeter/httpmeter"
	"github.com/httpmeter/httpmeter/authctx"
	"github.com/httpmeter/httpmeter/internal/testservers"
	"github.com/httpmeter/httpmeter/product"
	"github.com/httpmeter/httpmeter/usage"
)

// streamEvents returns the SSE events of testdata/e2e/openai-chat-stream.sse,
// each with its terminating blank line.
func streamEvents(t *testing.T) [][]byte {
	t.Helper()
	data, err := os.ReadFile(ownBodiesDir + "/openai-chat-stream.sse")
	require.NoError(t, err)

	var events [][]byte
	for event := range bytes.SplitAfterSeq(data, []byte("\n\n")) {
		if len(event) > 0 {
			events = append(events, event)
		}
	}
	require.Len(t, events, 8)
	return events
}

// lockstepServer sends events one at a time and sends the next only after
// the client acknowledged the previous one on ack. A stack that buffered or
// read ahead would wait for bytes the server holds back, and the test would
// time out instead of finishing. stopAfter ends the response early after
// that many events, waiting for the client to hang up; 0 sends them all.
func lockstepServer(t *testing.T, events [][]byte, ack <-chan struct{}, stopAfter int) *testservers.Server {
	t.Helper()
	return testservers.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
		flusher := w.(http.Flusher)

		for i, event := range events {
			if stopAfter > 0 && i == stopAfter {
				<-r.Context().Done()
				return
			}
			_, _ = w.Write(event)
			flusher.Flush()

			select {
			case <-ack:
			case <-r.Context().Done():
				return
			case <-time.After(10 * time.Second):
				t.Errorf("the client did not receive event %d within 10 s: something between server and client holds bytes back", i)
				return
			}
		}
	}))
}

func newStreamStack(t *testing.T, server *testservers.Server, events *eventLog, watch *secretWatch) (openai.Client, *authctx.Credential) {
	t.Helper()
	stack, err := httpmeter.New(newBaseTransport(t), httpmeter.Config{
		App:            newApp(t),
		AllowedOrigins: []string{server.URL},
		Recorder:       events,
		Logger:         watch.Logger(),
	})
	require.NoError(t, err)
	credential := &authctx.Credential{Token: watch.Token("alice"), Subject: "alice@example.com", Host: server.URL}
	return newOpenAIClient(stack, server.URL), credential
}

func TestStreamStaysLiveThroughStack(t *testing.T) {
	events := streamEvents(t)
	ack := make(chan struct{})
	server := lockstepServer(t, events, ack, 0)
	defer server.Close()

	watch := newSecretWatch(t)
	var recorded eventLog
	client, credential := newStreamStack(t, server, &recorded, watch)
	ctx := authctx.NewContext(product.NewContext(t.Context(), newProduct(t, newApp(t), "chat")), *credential)

	stream := client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
		Model:         requestModel,
		Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hi")},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	})
	defer stream.Close()

	chunks := 0
	for stream.Next() {
		chunks++
		assert.Empty(t, recorded.Events(), "no event before the stream ends")
		ack <- struct{}{}
	}
	watch.Error(stream.Err())
	require.NoError(t, stream.Err())
	assert.Equal(t, 7, chunks, "every chunk but [DONE] reaches the caller")

	metered := recorded.Events()
	require.Len(t, metered, 1)
	assert.Equal(t, usage.Usage{InputTokens: 24, OutputTokens: 5, TotalTokens: 29}, withoutRaw(metered[0].Usage))
	assert.Equal(t, usage.SourceReported, metered[0].Source)
	// openai-go closes the body as soon as it reads "data: [DONE]", before
	// the chunked body's end. The stream ended normally all the same.
	assert.True(t, metered[0].Complete, "a stream closed after [DONE] is complete")
}

func TestAbandonedStreamIsIncomplete(t *testing.T) {
	events := streamEvents(t)
	ack := make(chan struct{}, len(events))
	server := lockstepServer(t, events, ack, 3)
	defer server.Close()

	watch := newSecretWatch(t)
	var recorded eventLog
	client, credential := newStreamStack(t, server, &recorded, watch)
	ctx := authctx.NewContext(t.Context(), *credential)

	stream := client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
		Model:         requestModel,
		Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hi")},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	})
	for range 2 {
		require.True(t, stream.Next())
		ack <- struct{}{}
	}
	require.NoError(t, stream.Close(), "the caller abandons the stream")

	metered := recorded.Events()
	require.Len(t, metered, 1, "closing an abandoned stream records its event once")
	assert.False(t, metered[0].Complete)
	assert.Equal(t, usage.SourceMissing, metered[0].Source, "the usage chunk never arrived")
	assert.Equal(t, "gpt-4o-mini-2024-07-18", metered[0].Model)
	assert.Equal(t, credential.Subject, metered[0].Credential.Subject)
}
