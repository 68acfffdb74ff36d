package usage

import "net/http"

// Response headers in which Bedrock InvokeModel reports the token counts of
// a non-streamed response, whatever the model's own body format.
const (
	headerBedrockInputTokens  = "X-Amzn-Bedrock-Input-Token-Count"
	headerBedrockOutputTokens = "X-Amzn-Bedrock-Output-Token-Count"
)

// headerSnapshot returns the counts that h reports, and false when it
// reports none. They count like Bedrock's invocation metrics, so usage
// found in the body takes precedence over them.
func headerSnapshot(w *warnings, h http.Header) (snapshot, bool) {
	input, output := h.Get(headerBedrockInputTokens), h.Get(headerBedrockOutputTokens)
	if input == "" && output == "" {
		return snapshot{}, false
	}

	var in, out count
	if input != "" {
		_ = in.UnmarshalJSON([]byte(input))
	}
	if output != "" {
		_ = out.UnmarshalJSON([]byte(output))
	}

	s := snapshot{
		family:     familyBedrockMetrics,
		prompt:     take(w, headerBedrockInputTokens, in),
		completion: take(w, headerBedrockOutputTokens, out),
	}
	return s, s.reported()
}
