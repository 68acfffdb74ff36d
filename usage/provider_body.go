package usage

import "bytes"

// Ranks of the provider evidence a document gives. A stronger rank replaces
// a weaker one; the first of equal rank is kept.
const (
	rankNone = iota
	// rankCompatible: an OpenAI-shaped body that any compatible server sends.
	rankCompatible
	// rankFormat: a format only one API family uses.
	rankFormat
	// rankMarker: a field only one vendor adds to an OpenAI-shaped body.
	rankMarker
	// rankFraming: a body framing only one vendor uses (the AWS event
	// stream), which outranks the model format inside it.
	rankFraming
)

// providerFromDocument returns the provider that d's own fields reveal and
// how strong that evidence is. counted is the usage object that counts for
// d, or nil; without one, a usage member that counts nothing (such as
// "usageMetadata": null) still names its location.
//
// What the body cannot tell apart: Mistral, Databricks, vLLM and OpenAI
// itself all send plain OpenAI-shaped bodies, so those report "openai"
// unless the request host names another provider (see providerFromRequest).
func providerFromDocument(d *document, counted *usageField) (string, int) {
	typ := d.typ.textBytes()
	object := d.object.textBytes()

	u := counted
	switch {
	case u != nil:
	case d.usage.set:
		u = &d.usage
	default:
		u = &d.nestedUsage
	}

	switch {
	case d.sawPromptFilter:
		return "azure-openai", rankMarker
	case d.sawXGroq:
		return "groq", rankMarker
	case d.sawRouterProvider && bytes.HasPrefix(object, []byte("chat.completion")):
		return "openrouter", rankMarker
	case u.set && bytes.Contains(u.raw, []byte(`"prompt_cache_hit_tokens"`)):
		return "deepseek", rankMarker
	}
	if fp := d.fingerprint.textBytes(); len(fp) > 0 {
		switch {
		case string(fp) == "fp_ollama":
			return "ollama", rankMarker
		case isTGIFingerprint(fp):
			return "tgi", rankMarker
		}
	}

	switch {
	case string(typ) == "message_start" && !d.sawMessageUsage:
		return "anthropic-compatible", rankFormat
	case isAnthropicEvent(typ) || bytes.HasPrefix(typ, []byte("content_block_")) || string(typ) == "message_stop":
		return "anthropic", rankFormat
	case string(typ) == "error" && bytes.HasSuffix(d.errorType.textBytes(), []byte("_error")):
		return "anthropic", rankFormat
	case bytes.HasPrefix(typ, []byte("response.")) || string(object) == "response":
		return "openai", rankFormat
	case u.loc == locUsageMetadata || d.modelVersion.set || d.errorState.set:
		return "gemini", rankFormat
	case u.loc == locInvocationMetrics:
		return "aws-bedrock", rankFormat
	case u.loc == locBilledUnits || isCohereEvent(typ, d.eventType.textBytes()):
		return "cohere", rankFormat
	case u.set && bytes.Contains(u.raw, []byte(`"billed_units"`)):
		return "cohere", rankFormat
	case u.set && bytes.Contains(u.raw, []byte(`"inputTokens"`)):
		return "aws-bedrock", rankFormat
	case d.promptEvalCount.set || d.evalCount.set || (d.sawDone && d.model.set):
		return "ollama", rankFormat
	case bytes.HasPrefix(object, []byte("chat.completion")) || string(object) == "text_completion" ||
		string(object) == "embedding" || (string(object) == "list" && u.set):
		return "openai", rankCompatible
	}
	return "", rankNone
}

// isTGIFingerprint reports whether fp is a Text Generation Inference
// system_fingerprint, which starts with the server version ("3.1.2-native").
func isTGIFingerprint(fp []byte) bool {
	major, rest, ok := bytes.Cut(fp, []byte("."))
	if !ok || len(major) == 0 || len(bytes.Trim(major, "0123456789")) != 0 {
		return false
	}
	return bytes.IndexByte(rest, '-') >= 0
}

// isCohereEvent reports whether typ (v2) or eventType (v1) names a Cohere
// chat stream event; Cohere's v2 event types are hyphenated.
func isCohereEvent(typ, eventType []byte) bool {
	switch string(typ) {
	case "message-start", "content-start", "content-delta", "content-end", "message-end",
		"tool-plan-delta", "tool-call-start", "tool-call-delta", "tool-call-end", "citation-start", "citation-end":
		return true
	}
	switch string(eventType) {
	case "stream-start", "text-generation", "stream-end", "search-results", "citation-generation", "tool-calls-generation":
		return true
	}
	return false
}
