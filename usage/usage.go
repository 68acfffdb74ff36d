package usage

import "encoding/json"

// Usage is the normalized token usage of one response, or the sum of several.
//
// InputTokens counts every prompt-side token, cache reads and cache writes
// included; CachedInputTokens and CacheCreationInputTokens are parts of it.
// OutputTokens counts every generated token, reasoning included;
// ReasoningTokens is part of it. TotalTokens is the provider's own total where
// it reports one, else InputTokens + OutputTokens.
type Usage struct {
	InputTokens              int64 `json:"input_tokens"`
	OutputTokens             int64 `json:"output_tokens"`
	TotalTokens              int64 `json:"total_tokens"`
	CachedInputTokens        int64 `json:"cached_input_tokens,omitempty"`
	CacheCreationInputTokens int64 `json:"cache_creation_input_tokens,omitempty"`
	ReasoningTokens          int64 `json:"reasoning_tokens,omitempty"`

	// Raw is the provider's own usage object as it appeared in the body, for
	// sinks that want the original fields. It is nil when the object was
	// larger than MaxRawBytes or when the Usage is a sum.
	Raw json.RawMessage `json:"raw,omitempty"`
}

// MaxRawBytes is the largest provider usage object kept in [Usage.Raw].
const MaxRawBytes = 4096

// IsZero reports whether every count in u is zero.
func (u Usage) IsZero() bool {
	return u.InputTokens == 0 && u.OutputTokens == 0 && u.TotalTokens == 0 &&
		u.CachedInputTokens == 0 && u.CacheCreationInputTokens == 0 && u.ReasoningTokens == 0
}

// Add returns the sum of u and v. Sums saturate at the largest int64 instead
// of wrapping around, and the result has no Raw object.
func (u Usage) Add(v Usage) Usage {
	return Usage{
		InputTokens:              addSaturating(u.InputTokens, v.InputTokens),
		OutputTokens:             addSaturating(u.OutputTokens, v.OutputTokens),
		TotalTokens:              addSaturating(u.TotalTokens, v.TotalTokens),
		CachedInputTokens:        addSaturating(u.CachedInputTokens, v.CachedInputTokens),
		CacheCreationInputTokens: addSaturating(u.CacheCreationInputTokens, v.CacheCreationInputTokens),
		ReasoningTokens:          addSaturating(u.ReasoningTokens, v.ReasoningTokens),
	}
}

func addSaturating(a, b int64) int64 {
	const maxInt64 = 1<<63 - 1
	if b > 0 && a > maxInt64-b {
		return maxInt64
	}
	return a + b
}
