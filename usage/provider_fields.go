package usage

import "encoding/json"

// usageFields lists the count fields of every supported usage object. One
// struct serves all families because the field names do not collide, and the
// family is chosen from where the object was found and which fields it has.
type usageFields struct {
	// OpenAI chat completions, completions, embeddings and the servers that
	// copy them. prompt_tokens includes cached_tokens.
	PromptTokens        count `json:"prompt_tokens"`
	CompletionTokens    count `json:"completion_tokens"`
	TotalTokens         count `json:"total_tokens"`
	PromptTokensDetails struct {
		CachedTokens count `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
	CompletionTokensDetails struct {
		ReasoningTokens count `json:"reasoning_tokens"`
	} `json:"completion_tokens_details"`

	// CachedTokens is Together's top-level cache count; PromptCacheHitTokens
	// is DeepSeek's.
	CachedTokens         count `json:"cached_tokens"`
	PromptCacheHitTokens count `json:"prompt_cache_hit_tokens"`

	// OpenAI Responses (input includes cached) and Anthropic Messages (input
	// excludes cache reads and writes).
	InputTokens        count `json:"input_tokens"`
	OutputTokens       count `json:"output_tokens"`
	InputTokensDetails struct {
		CachedTokens count `json:"cached_tokens"`
	} `json:"input_tokens_details"`
	OutputTokensDetails struct {
		ReasoningTokens count `json:"reasoning_tokens"`
		ThinkingTokens  count `json:"thinking_tokens"`
	} `json:"output_tokens_details"`
	CacheReadInputTokens     *count `json:"cache_read_input_tokens"`
	CacheCreationInputTokens *count `json:"cache_creation_input_tokens"`

	// Amazon Bedrock Converse. inputTokens excludes cache reads and writes.
	InputTokensCamel          *count `json:"inputTokens"`
	OutputTokensCamel         count  `json:"outputTokens"`
	TotalTokensCamel          count  `json:"totalTokens"`
	CacheReadInputTokensCamel count  `json:"cacheReadInputTokens"`
	CacheWriteInputTokens     count  `json:"cacheWriteInputTokens"`

	// Amazon Bedrock InvokeModel amazon-bedrock-invocationMetrics.
	InputTokenCount           count `json:"inputTokenCount"`
	OutputTokenCount          count `json:"outputTokenCount"`
	CacheReadInputTokenCount  count `json:"cacheReadInputTokenCount"`
	CacheWriteInputTokenCount count `json:"cacheWriteInputTokenCount"`

	// Gemini usageMetadata. promptTokenCount includes the cached content
	// but not the tool-use prompt; candidatesTokenCount excludes thoughts.
	PromptTokenCount        count `json:"promptTokenCount"`
	CandidatesTokenCount    count `json:"candidatesTokenCount"`
	ThoughtsTokenCount      count `json:"thoughtsTokenCount"`
	ToolUsePromptTokenCount count `json:"toolUsePromptTokenCount"`
	CachedContentTokenCount count `json:"cachedContentTokenCount"`
	TotalTokenCount         count `json:"totalTokenCount"`

	// Cohere bills billed_units; its tokens object counts the templated
	// prompt, which is not what is invoiced.
	BilledUnits *billedUnits `json:"billed_units"`
}

// billedUnits is Cohere's billed_units object, found in usage (v2) or meta
// (v1 and embed).
type billedUnits struct {
	InputTokens  count `json:"input_tokens"`
	OutputTokens count `json:"output_tokens"`
}

// usageLocation is the member path at which a document carried a usage
// object.
type usageLocation uint8

const (
	locUsage             usageLocation = iota + 1 // usage
	locMessageUsage                               // message.usage (Anthropic message_start)
	locResponseUsage                              // response.usage (OpenAI Responses events)
	locDeltaUsage                                 // delta.usage (Cohere v2 message-end)
	locUsageMetadata                              // usageMetadata (Gemini)
	locInvocationMetrics                          // amazon-bedrock-invocationMetrics
	locBilledUnits                                // meta.billed_units, response.meta.billed_units (Cohere v1)
)

// decodeUsage decodes the usage object raw, found at loc in a document of
// type docType, into a snapshot. It returns false when raw is not an object
// or carries no count it recognizes. Rejected counts add warnings to w.
func decodeUsage(w *warnings, raw []byte, loc usageLocation, docType []byte) (snapshot, bool) {
	if len(raw) == 0 || raw[0] != '{' {
		return snapshot{}, false
	}

	var s snapshot
	if loc == locBilledUnits {
		var b billedUnits
		if json.Unmarshal(raw, &b) != nil {
			return snapshot{}, false
		}
		s = cohereSnapshot(w, &b)
	} else {
		var f usageFields
		if json.Unmarshal(raw, &f) != nil {
			return snapshot{}, false
		}
		s = fieldsSnapshot(w, &f, loc, docType)
	}

	if !s.reported() {
		return snapshot{}, false
	}
	if len(raw) <= MaxRawBytes {
		s.raw = raw
	}
	return s, true
}

// fieldsSnapshot picks the family of f from its location and fields.
func fieldsSnapshot(w *warnings, f *usageFields, loc usageLocation, docType []byte) snapshot {
	switch {
	case loc == locUsageMetadata:
		return geminiSnapshot(w, f)
	case loc == locInvocationMetrics:
		return bedrockMetricsSnapshot(w, f)
	case f.BilledUnits != nil:
		return cohereSnapshot(w, f.BilledUnits)
	case loc == locMessageUsage || isAnthropicEvent(docType):
		return anthropicSnapshot(w, f)
	case loc == locResponseUsage:
		return responsesSnapshot(w, f)
	case f.PromptTokens.set || f.CompletionTokens.set || f.PromptTokens.problem != "" || f.CompletionTokens.problem != "":
		return openAIChatSnapshot(w, f)
	case f.InputTokensCamel != nil:
		return bedrockConverseSnapshot(w, f)
	case f.CacheReadInputTokens != nil || f.CacheCreationInputTokens != nil:
		return anthropicSnapshot(w, f)
	default:
		return responsesSnapshot(w, f)
	}
}

func openAIChatSnapshot(w *warnings, f *usageFields) snapshot {
	cached := take(w, "prompt_tokens_details.cached_tokens", f.PromptTokensDetails.CachedTokens)
	if !cached.ok {
		cached = take(w, "cached_tokens", f.CachedTokens)
	}
	if !cached.ok {
		cached = take(w, "prompt_cache_hit_tokens", f.PromptCacheHitTokens)
	}

	return snapshot{
		family:        familyOpenAIChat,
		prompt:        take(w, "prompt_tokens", f.PromptTokens),
		cacheRead:     cached,
		cacheInPrompt: true,
		completion:    take(w, "completion_tokens", f.CompletionTokens),
		reasoning:     take(w, "completion_tokens_details.reasoning_tokens", f.CompletionTokensDetails.ReasoningTokens),
		total:         take(w, "total_tokens", f.TotalTokens),
	}
}

func responsesSnapshot(w *warnings, f *usageFields) snapshot {
	return snapshot{
		family:        familyOpenAIResponses,
		prompt:        take(w, "input_tokens", f.InputTokens),
		cacheRead:     take(w, "input_tokens_details.cached_tokens", f.InputTokensDetails.CachedTokens),
		cacheInPrompt: true,
		completion:    take(w, "output_tokens", f.OutputTokens),
		reasoning:     take(w, "output_tokens_details.reasoning_tokens", f.OutputTokensDetails.ReasoningTokens),
		total:         take(w, "total_tokens", f.TotalTokens),
	}
}

func anthropicSnapshot(w *warnings, f *usageFields) snapshot {
	s := snapshot{
		family:     familyAnthropic,
		prompt:     take(w, "input_tokens", f.InputTokens),
		completion: take(w, "output_tokens", f.OutputTokens),
		reasoning:  take(w, "output_tokens_details.thinking_tokens", f.OutputTokensDetails.ThinkingTokens),
	}
	if f.CacheReadInputTokens != nil {
		s.cacheRead = take(w, "cache_read_input_tokens", *f.CacheReadInputTokens)
	}
	if f.CacheCreationInputTokens != nil {
		s.cacheWrite = take(w, "cache_creation_input_tokens", *f.CacheCreationInputTokens)
	}
	return s
}

func geminiSnapshot(w *warnings, f *usageFields) snapshot {
	thoughts := take(w, "thoughtsTokenCount", f.ThoughtsTokenCount)
	return snapshot{
		family:        familyGemini,
		prompt:        take(w, "promptTokenCount", f.PromptTokenCount),
		extraInput:    take(w, "toolUsePromptTokenCount", f.ToolUsePromptTokenCount),
		cacheRead:     take(w, "cachedContentTokenCount", f.CachedContentTokenCount),
		cacheInPrompt: true,
		completion:    take(w, "candidatesTokenCount", f.CandidatesTokenCount),
		extraOutput:   thoughts,
		reasoning:     thoughts,
		total:         take(w, "totalTokenCount", f.TotalTokenCount),
	}
}

// NOTE: Bedrock's documentation does not say whether inputTokens includes
// cache reads and writes. This assumes it does not, as for Anthropic's own
// API, so they are added to the input.
func bedrockConverseSnapshot(w *warnings, f *usageFields) snapshot {
	return snapshot{
		family:     familyBedrockConverse,
		prompt:     take(w, "inputTokens", *f.InputTokensCamel),
		cacheRead:  take(w, "cacheReadInputTokens", f.CacheReadInputTokensCamel),
		cacheWrite: take(w, "cacheWriteInputTokens", f.CacheWriteInputTokens),
		completion: take(w, "outputTokens", f.OutputTokensCamel),
		total:      take(w, "totalTokens", f.TotalTokensCamel),
	}
}

func bedrockMetricsSnapshot(w *warnings, f *usageFields) snapshot {
	return snapshot{
		family:     familyBedrockMetrics,
		prompt:     take(w, "inputTokenCount", f.InputTokenCount),
		cacheRead:  take(w, "cacheReadInputTokenCount", f.CacheReadInputTokenCount),
		cacheWrite: take(w, "cacheWriteInputTokenCount", f.CacheWriteInputTokenCount),
		completion: take(w, "outputTokenCount", f.OutputTokenCount),
	}
}

func cohereSnapshot(w *warnings, b *billedUnits) snapshot {
	return snapshot{
		family:     familyCohere,
		prompt:     take(w, "billed_units.input_tokens", b.InputTokens),
		completion: take(w, "billed_units.output_tokens", b.OutputTokens),
	}
}

// ollamaSnapshot builds a snapshot from the top-level counts of an Ollama
// native response, which has no usage object.
func ollamaSnapshot(w *warnings, promptEval, eval count) snapshot {
	return snapshot{
		family:     familyOllama,
		prompt:     take(w, "prompt_eval_count", promptEval),
		completion: take(w, "eval_count", eval),
	}
}

// isAnthropicEvent reports whether docType is the type of an Anthropic
// Messages response or stream event whose top-level usage is Anthropic's.
func isAnthropicEvent(docType []byte) bool {
	switch string(docType) {
	case "message", "message_delta", "message_start":
		return true
	}
	return false
}
