package usage_test

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/httpmeter/httpmeter/usage"
)

// This example feeds a streamed chat completion to an Extractor in two
// pieces that split an event, as reads from the network do. The transport
// does the same with each read of the caller.
func ExampleNewExtractor() {
	req, err := http.NewRequest(http.MethodPost, "https://api.openai.com/v1/chat/completions", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	resp := &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": {"text/event-stream"}},
	}

	x, ok := usage.NewExtractor(req, resp)
	if !ok {
		fmt.Println("no usage in this content type")
		return
	}

	body := strings.Join([]string{
		`data: {"model":"gpt-4o-mini-2024-07-18","choices":[{"delta":{"content":"Hel"}}]}`,
		`data: {"model":"gpt-4o-mini-2024-07-18","choices":[{"delta":{"content":"lo"}}]}`,
		`data: {"model":"gpt-4o-mini-2024-07-18","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":2,"total_tokens":14}}`,
		`data: [DONE]`,
	}, "\n\n") + "\n\n"
	half := len(body) / 2
	_, _ = x.Write([]byte(body[:half]))
	_, _ = x.Write([]byte(body[half:]))

	result := x.Finish(true)
	fmt.Println(result.Provider, result.Model, result.Found, result.Complete)
	fmt.Println(result.Usage.InputTokens, result.Usage.OutputTokens, result.Usage.TotalTokens)

	// Output:
	// openai gpt-4o-mini-2024-07-18 true true
	// 12 2 14
}
