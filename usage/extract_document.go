package usage

import (
	"bytes"

	"github.com/httpmeter/httpmeter/internal/jsonscan"
)

// Capture limits for the members a document handler keeps.
const (
	// maxUsageCapture bounds a usage object. Objects up to MaxRawBytes are
	// kept in Usage.Raw; larger ones up to this size are still decoded.
	maxUsageCapture = 16 << 10

	maxModelCapture = 256
	maxWordCapture  = 64
	maxCountCapture = 32
)

// field is one captured member value of the current document. Its buffer
// is reused from document to document.
type field struct {
	raw []byte
	set bool
}

func (f *field) store(raw []byte, truncated bool) {
	if truncated {
		return
	}
	f.raw = append(f.raw[:0], raw...)
	f.set = true
}

func (f *field) reset() {
	f.raw = f.raw[:0]
	f.set = false
}

// textBytes returns the field's JSON string value without its quotes, or
// nil when it is unset, not a string, or contains escape sequences (the
// type and event names compared with it never do, and modelName decodes
// escaped model names). The slice aliases the field, so it is valid
// until the next document; comparing string(b) with a constant does not
// allocate.
func (f *field) textBytes() []byte {
	if !f.set || len(f.raw) < 2 || f.raw[0] != '"' || f.raw[len(f.raw)-1] != '"' {
		return nil
	}
	inner := f.raw[1 : len(f.raw)-1]
	for _, c := range inner {
		if c == '\\' {
			return nil
		}
	}
	return inner
}

// document collects the members of one JSON document (a response, a stream
// event or an array element) that usage extraction needs.
type document struct {
	typ, object, eventType      field
	model, modelVersion         field
	messageModel, responseModel field
	fingerprint                 field

	// errorStart is the first byte of a top-level "error" or
	// "response.error" value, which distinguishes an error object or string
	// from null. It is 0 when the document has neither.
	errorStart                       byte
	errorType, errorCode, errorState field

	// code is a top-level "code", which names the error of an OpenAI
	// Responses "error" event.
	code field

	// usage is a top-level usage object (usage, usageMetadata or
	// amazon-bedrock-invocationMetrics), nestedUsage one a level or two
	// down (message.usage, response.usage, delta.usage, meta.billed_units).
	// They are kept apart because which one counts depends on the
	// document's type, which may come after both.
	usage, nestedUsage usageField
	usageTooLarge      bool

	promptEvalCount, evalCount field

	sawMessageUsage, sawXGroq, sawPromptFilter, sawRouterProvider, sawDone bool
}

// reset clears d for the next document and keeps the fields' buffers. It
// runs once per stream event, so it resets each field in turn rather than
// building a slice of them to loop over.
func (d *document) reset() {
	d.typ.reset()
	d.object.reset()
	d.eventType.reset()
	d.model.reset()
	d.modelVersion.reset()
	d.messageModel.reset()
	d.responseModel.reset()
	d.fingerprint.reset()
	d.errorType.reset()
	d.errorCode.reset()
	d.errorState.reset()
	d.code.reset()
	d.usage.reset()
	d.nestedUsage.reset()
	d.promptEvalCount.reset()
	d.evalCount.reset()
	d.usage.loc, d.nestedUsage.loc = 0, 0
	d.errorStart = 0
	d.usageTooLarge = false
	d.sawMessageUsage, d.sawXGroq, d.sawPromptFilter, d.sawRouterProvider, d.sawDone = false, false, false, false, false
}

// target returns the field that keeps the member at p, whose value begins
// with first, its capture limit, and the usage location when the member is
// a usage object. Members that only matter by their presence are recorded
// here and get no field.
func (d *document) target(p jsonscan.Path, first byte) (*field, int, usageLocation) {
	switch p.Len() {
	case 1:
		return d.topLevelTarget(p.Key(0), first)
	case 2:
		return d.nestedTarget(p.Key(0), p.Key(1), first)
	case 3:
		switch {
		case p.Is("response", "error", "code"):
			return &d.errorCode, maxWordCapture, 0
		case p.Is("response", "error", "type"):
			return &d.errorType, maxWordCapture, 0
		case p.Is("response", "meta", "billed_units"):
			return d.usageTarget(locBilledUnits, first)
		}
	}
	return nil, 0, 0
}

// topLevelTarget is target for a top-level key. Keys stay bytes, because
// a switch on string(key) compares them without a conversion.
func (d *document) topLevelTarget(key []byte, first byte) (*field, int, usageLocation) {
	switch string(key) {
	case "error":
		d.errorStart = first
	case "type":
		return &d.typ, maxWordCapture, 0
	case "object":
		return &d.object, maxWordCapture, 0
	case "event_type":
		return &d.eventType, maxWordCapture, 0
	case "model":
		return &d.model, maxModelCapture, 0
	case "modelVersion":
		return &d.modelVersion, maxModelCapture, 0
	case "system_fingerprint":
		return &d.fingerprint, maxWordCapture, 0
	case "code":
		return &d.code, maxWordCapture, 0
	case "usage":
		return d.usageTarget(locUsage, first)
	case "usageMetadata":
		return d.usageTarget(locUsageMetadata, first)
	case "amazon-bedrock-invocationMetrics":
		return d.usageTarget(locInvocationMetrics, first)
	case "prompt_eval_count":
		return &d.promptEvalCount, maxCountCapture, 0
	case "eval_count":
		return &d.evalCount, maxCountCapture, 0
	case "x_groq":
		d.sawXGroq = true
	case "prompt_filter_results":
		d.sawPromptFilter = true
	case "provider":
		d.sawRouterProvider = true
	case "done":
		d.sawDone = true
	}
	return nil, 0, 0
}

func (d *document) nestedTarget(parent, key []byte, first byte) (*field, int, usageLocation) {
	switch string(parent) {
	case "message":
		switch string(key) {
		case "usage":
			d.sawMessageUsage = true
			return d.usageTarget(locMessageUsage, first)
		case "model":
			return &d.messageModel, maxModelCapture, 0
		}
	case "response":
		switch string(key) {
		case "error":
			d.errorStart = first
		case "usage":
			return d.usageTarget(locResponseUsage, first)
		case "model":
			return &d.responseModel, maxModelCapture, 0
		}
	case "delta":
		if string(key) == "usage" {
			return d.usageTarget(locDeltaUsage, first)
		}
	case "meta":
		if string(key) == "billed_units" {
			return d.usageTarget(locBilledUnits, first)
		}
	case "error":
		switch string(key) {
		case "type":
			return &d.errorType, maxWordCapture, 0
		case "code":
			return &d.errorCode, maxWordCapture, 0
		case "status":
			return &d.errorState, maxWordCapture, 0
		}
	}
	return nil, 0, 0
}

// namesProviderOnly reports whether f is a field that only
// providerFromDocument reads, which need not be captured once the
// extractor's provider is decided.
func (d *document) namesProviderOnly(f *field) bool {
	return f == &d.object || f == &d.fingerprint || f == &d.eventType
}

// usageField is a captured usage object and the location it came from.
type usageField struct {
	field
	loc usageLocation
}

// holdsObject reports whether u captured a JSON object.
func (u *usageField) holdsObject() bool {
	return u.set && len(u.raw) > 0 && u.raw[0] == '{'
}

// usageAt returns the slot for a usage object found at loc.
func (d *document) usageAt(loc usageLocation) *usageField {
	switch loc {
	case locUsage, locUsageMetadata, locInvocationMetrics:
		return &d.usage
	}
	return &d.nestedUsage
}

// usageTarget returns the field for a usage object at loc whose value
// begins with first, or nil when its slot keeps what it holds. A repeated
// key whose value is not an object (a null after the real usage) does not
// replace an object, and Bedrock's invocation metrics do not replace a
// usage or usageMetadata object of the same document.
func (d *document) usageTarget(loc usageLocation, first byte) (*field, int, usageLocation) {
	u := d.usageAt(loc)
	if u.holdsObject() {
		if first != '{' || (loc == locInvocationMetrics && u.loc != locInvocationMetrics) {
			return nil, 0, 0
		}
	}
	return &u.field, maxUsageCapture, loc
}

// usageCandidates returns the usage objects that may count for d, best
// first. The top-level one comes first, except in events that wrap the
// response object: an Anthropic message_start counts message.usage first,
// and an OpenAI Responses event counts only response.usage, because its
// top-level usage (response.tool_usage.*) is a tool's own work.
func (d *document) usageCandidates() [2]*usageField {
	typ := d.typ.textBytes()
	top, nested := &d.usage, &d.nestedUsage
	if !top.holdsObject() || (top.loc == locUsage && bytes.HasPrefix(typ, []byte("response."))) {
		top = nil
	}
	if !nested.holdsObject() {
		nested = nil
	}

	switch {
	case top == nil:
		return [2]*usageField{nested}
	case string(typ) == "message_start":
		return [2]*usageField{nested, top}
	default:
		return [2]*usageField{top, nested}
	}
}
