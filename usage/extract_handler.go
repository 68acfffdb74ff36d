package usage

import (
	"encoding/json"
	"fmt"

	"github.com/httpmeter/httpmeter/internal/jsonscan"
)

// scanHandler is the Extractor as the jsonscan.Handler of its scanner. It is a
// type of its own so that the handler methods, which only the scanner may
// call, stay out of the Extractor's exported method set.
type scanHandler Extractor

// Member implements jsonscan.Handler; the scanner calls it for each object
// member of the current document.
func (h *scanHandler) Member(p jsonscan.Path, first byte) int {
	x := (*Extractor)(h)
	if x.deferredReady {
		return 0
	}
	f, limit, loc := x.doc.target(p, first)
	if f == nil || limit == 0 {
		return 0
	}
	if x.providerDecided() && x.doc.namesProviderOnly(f) {
		return 0
	}
	x.capture, x.captureLoc = f, loc
	return limit
}

// Value implements jsonscan.Handler; it keeps a captured member.
func (h *scanHandler) Value(_ jsonscan.Path, raw []byte, truncated bool) {
	x := (*Extractor)(h)
	if x.capture == nil {
		return
	}
	x.capture.store(raw, truncated)

	if x.captureLoc != 0 && !truncated {
		x.doc.usageAt(x.captureLoc).loc = x.captureLoc
	}
	if truncated && x.captureLoc != 0 {
		x.doc.usageTooLarge = true
	}
	x.capture, x.captureLoc = nil, 0
}

// EndDocument implements jsonscan.Handler; a complete document is applied to
// the result, an incomplete one is dropped.
func (h *scanHandler) EndDocument(complete bool) {
	x := (*Extractor)(h)
	x.capture, x.captureLoc = nil, 0

	if x.deferDocuments {
		if x.deferredReady {
			return
		}
		if complete {
			x.deferredReady = true
			return
		}
		x.doc.reset()
		return
	}

	if complete {
		x.applyDocument(&x.doc)
	}
	x.doc.reset()
}

// applyDeferred applies the document held while deferDocuments is set, once
// its container (an event-stream message) has proved intact.
func (x *Extractor) applyDeferred() {
	if x.deferredReady {
		x.applyDocument(&x.doc)
	}
	x.discardDeferred()
}

// discardDeferred drops the document held while deferDocuments is set.
func (x *Extractor) discardDeferred() {
	x.doc.reset()
	x.deferredReady = false
}

// applyDocument folds what one document reports into the extractor's state.
// A document that changes nothing (the provider, the model, the usage, an
// error or the end of the stream) is counted in quietDocuments, which lets
// the SSE framer skip later events that provably change nothing either.
func (x *Extractor) applyDocument(d *document) {
	x.documents++
	changed := false

	switch string(d.typ.textBytes()) {
	case "message_stop", "response.completed":
		x.terminated = true
		changed = true
	}

	// Most stream events carry no usage object, or "usage":null, so the
	// decoding is skipped for them.
	var snap snapshot
	var counted *usageField
	if d.usage.holdsObject() || d.nestedUsage.holdsObject() {
		snap, counted = x.decodeDocumentUsage(d)
		changed = true
	}

	if !x.providerDecided() {
		if name, rank := providerFromDocument(d, counted); rank > x.bodyRank {
			x.bodyProvider, x.bodyRank = name, rank
			changed = true
		}
	}

	for _, f := range []*field{&d.messageModel, &d.responseModel, &d.modelVersion, &d.model} {
		if m := modelName(f); len(m) > 0 {
			// Streams repeat the model in every event, so a string is
			// allocated only when it changes.
			if string(m) != x.model {
				x.model = string(m)
				changed = true
			}
			break
		}
	}

	if name, ok := x.documentError(d); ok {
		x.errored = true
		x.warnings.add(fmt.Sprintf("usage: the response reported an error of type %q", name))
		changed = true
	}

	if d.usageTooLarge {
		x.warnings.add(fmt.Sprintf("usage: a usage object larger than %d bytes was ignored", maxUsageCapture))
		changed = true
	}
	if counted != nil {
		x.record(&snap)
	}
	if d.promptEvalCount.set || d.evalCount.set {
		var promptEval, eval count
		_ = json.Unmarshal(d.promptEvalCount.raw, &promptEval)
		_ = json.Unmarshal(d.evalCount.raw, &eval)
		if s := ollamaSnapshot(&x.warnings, promptEval, eval); s.reported() {
			x.record(&s)
		}
		changed = true
	}

	if !changed {
		x.quietDocuments++
	}
}

// decodeDocumentUsage decodes the first of d's usage candidates that
// carries a count, and returns it with the candidate, which is nil when
// none does.
func (x *Extractor) decodeDocumentUsage(d *document) (snapshot, *usageField) {
	for _, u := range d.usageCandidates() {
		if u == nil {
			continue
		}
		if s, ok := decodeUsage(&x.warnings, u.raw, u.loc, d.typ.textBytes()); ok {
			return s, u
		}
	}
	return snapshot{}, nil
}

// record merges a decoded snapshot. Streams repeat cumulative snapshots, so
// the last one wins. An all-zero placeholder after real counts is ignored.
// Bedrock's invocation metrics count only when no other usage was seen.
func (x *Extractor) record(s *snapshot) {
	if x.found {
		if s.zero() && !x.snap.zero() {
			return
		}
		if s.family == familyBedrockMetrics && x.snap.family != familyBedrockMetrics {
			return
		}
	}
	x.snap.merge(s)
	x.found = true
}

// documentError reports whether d is an error event or error body, and the
// error's type, code or status, which never includes the error message.
func (x *Extractor) documentError(d *document) (string, bool) {
	typ := d.typ.textBytes()
	isError := d.errorStart == '{' || d.errorStart == '"' ||
		string(typ) == "error" || string(typ) == "response.failed" || string(x.sseEvent.textBytes()) == "error"
	if !isError {
		return "", false
	}

	for _, f := range []*field{&d.errorType, &d.errorCode, &d.errorState, &d.code} {
		if name := errorName(f); name != "" {
			return name, true
		}
	}
	if len(typ) > 0 {
		return sanitizeName(typ), true
	}
	return "unknown", true
}

// errorName returns the captured error type or code as a short token, with
// any character outside [A-Za-z0-9_.:-] dropped, or "" when it is unset.
func errorName(f *field) string {
	if !f.set {
		return ""
	}
	raw := f.raw
	if len(raw) >= 2 && raw[0] == '"' {
		raw = raw[1 : len(raw)-1]
	}

	name := make([]byte, 0, len(raw))
	for _, c := range raw {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '_' || c == '.' || c == ':' || c == '-' {
			name = append(name, c)
		}
	}
	if string(name) == "null" {
		return ""
	}
	return string(name)
}

// modelName returns the model name a field holds. Names with escape
// sequences, such as "meta-llama\/Llama-3" from encoders that escape "/",
// are decoded, which allocates; plain names alias the field.
func modelName(f *field) []byte {
	if m := f.textBytes(); m != nil || !f.set || len(f.raw) == 0 || f.raw[0] != '"' {
		return m
	}

	var name string
	if json.Unmarshal(f.raw, &name) != nil {
		return nil
	}
	return []byte(name)
}
