package usage

import (
	"mime"
	"net/http"
	"strings"

	"github.com/httpmeter/httpmeter/internal/jsonscan"
)

// Result is the provider, model and usage that an [Extractor] found in a
// response body.
type Result struct {
	// Provider is the API family detected from the body and the URL.
	Provider string

	// Model is the model the body names, else the one in the request URL.
	Model string

	// Usage holds the last complete usage snapshot seen.
	Usage Usage

	// Found reports whether the body carried a usage object with at least
	// one valid count.
	Found bool

	// Complete is false when the body ended before its format's final
	// message, or reported an error inside a successful response.
	Complete bool

	// Warnings lists counts that were rejected or clamped, and error events.
	Warnings []string
}

// framer splits a body into JSON text for the scanner according to its
// framing (plain JSON, SSE, NDJSON or AWS event stream).
type framer interface {
	// write consumes the next bytes of the body.
	write(p []byte)

	// finish ends the body and reports whether its framing was complete.
	finish(bodyEnded bool) bool
}

// Extractor finds the usage in a response body that is fed to it as the
// caller reads it. It keeps O(1) memory whatever the body size: it never
// buffers the body, only bounded captures of the few members it reads (a
// usage object of at most 16 KiB, a model name of at most 256 bytes) and,
// for SSE, about 6 to 7 KiB for a template event, the start of the next
// event and the scan that checks the template. An Extractor is not safe for concurrent use. After Finish,
// Write ignores its input. For a gzip-encoded body it runs one goroutine
// from the first Write until Finish, so every Extractor that was written
// to must be finished.
//
// In an SSE stream, an event that equals an earlier event which changed
// nothing, except for the text of one string the extractor never reads
// (such as a token delta), is counted without being parsed.
//
// The provider comes from the request host (req.Host, else req.URL.Host)
// when it is a known API host, else from the body. Mistral, Databricks
// (outside /serving-endpoints/ paths), vLLM and the Hugging Face router
// send bodies shaped like OpenAI's, so without their host they report
// "openai".
type Extractor struct {
	framing framer
	scan    *jsonscan.Scanner

	// doc collects the current document; capture is the field that the
	// scanner's capture in progress goes to, captureLoc its usage location.
	doc        document
	capture    *field
	captureLoc usageLocation

	// sseEvent is the SSE event name of the current document, if any.
	sseEvent field

	// deferDocuments holds a complete document in doc, with deferredReady
	// set, until its framing applies or discards it.
	deferDocuments bool
	deferredReady  bool

	urlProvider  string
	urlModel     string
	bodyProvider string
	bodyRank     int
	model        string

	snap     snapshot
	found    bool
	errored  bool
	warnings warnings
	finished bool

	// terminated is set once the body sent its format's final message:
	// "data: [DONE]", Anthropic's message_stop or the Responses API's
	// response.completed. Clients such as openai-go close the body right
	// after it, before reading EOF, so Finish then reports the body complete.
	terminated bool

	// plainJSON is set for a plain JSON body, and documents counts the
	// documents applied. A plain JSON body whose values are all closed is
	// complete even when the caller closes it before reading EOF.
	plainJSON bool
	documents int

	// quietDocuments counts the applied documents that changed nothing, so
	// documents-quietDocuments changes whenever a document changed the
	// result.
	quietDocuments int
}

// NewExtractor returns an extractor for resp, the response to req, and false
// when the content type or encoding is not one whose usage it can read. req
// may be nil; its URL then gives no provider or model. The extractor does
// not keep req or resp.
func NewExtractor(req *http.Request, resp *http.Response) (*Extractor, bool) {
	if resp == nil {
		return nil, false
	}

	mediaType, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil {
		return nil, false
	}
	encoding := strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding")))

	x := &Extractor{}
	x.scan = jsonscan.New((*scanHandler)(x))

	switch {
	case mediaType == "text/event-stream":
		x.framing = newSSEFramer(x)
	case isNDJSON(mediaType):
		x.framing = &ndjsonFramer{scan: x.scan}
	case mediaType == "application/json" || mediaType == "text/json" || strings.HasSuffix(mediaType, "+json"):
		x.framing = &jsonFramer{scan: x.scan}
		x.plainJSON = true
	case mediaType == "application/vnd.amazon.eventstream":
		x.framing = newEventStreamFramer(x)
		x.bodyProvider, x.bodyRank = "aws-bedrock", rankFraming
	default:
		return nil, false
	}

	switch encoding {
	case "", "identity":
	case "gzip", "x-gzip":
		x.framing = newGzipFramer(x, x.framing)
	default:
		return nil, false
	}

	if req != nil {
		x.urlProvider = providerFromRequest(req)
		x.urlModel = modelFromURL(req.URL)
	}
	if s, ok := headerSnapshot(&x.warnings, resp.Header); ok {
		x.record(&s)
	}
	return x, true
}

func isNDJSON(mediaType string) bool {
	switch mediaType {
	case "application/x-ndjson", "application/ndjson", "application/jsonl",
		"application/x-jsonlines", "application/jsonlines":
		return true
	}
	return false
}

// Write feeds the next bytes of the body. It always returns len(p), nil. It
// does not retain p.
func (x *Extractor) Write(p []byte) (int, error) {
	if x.finished || len(p) == 0 {
		return len(p), nil
	}
	x.framing.write(p)
	return len(p), nil
}

// Finish ends extraction, releases the extractor's resources (the gzip
// decoder's goroutine among them) and returns the result. bodyEnded reports
// whether the body was read to EOF. A body closed before EOF is still
// complete when it had sent its format's final message, such as
// "data: [DONE]", or, for plain JSON, closed every value it opened. Call it
// once: a second call returns an empty Result.
func (x *Extractor) Finish(bodyEnded bool) Result {
	if x.finished {
		return Result{}
	}
	x.finished = true

	ended := bodyEnded || x.terminated || (x.plainJSON && x.documents > 0)
	framingComplete := x.framing.finish(ended)

	r := Result{
		Provider: x.provider(),
		Model:    x.model,
		Found:    x.found,
		Complete: ended && framingComplete && !x.errored,
		Warnings: x.warnings.result(),
	}
	if r.Model == "" {
		r.Model = x.urlModel
	}
	if x.found {
		r.Usage = x.snap.usage()
	}

	x.scan = nil
	x.framing = nil
	x.doc = document{}
	x.snap = snapshot{}
	return r
}

func (x *Extractor) provider() string {
	if x.urlProvider != "" {
		return x.urlProvider
	}
	return x.bodyProvider
}

// providerDecided reports whether no later document can change what
// provider returns: a known request host outranks the body, and a vendor
// marker (rankMarker) is outranked only by the framing, which NewExtractor
// sets. Streams repeat their provider evidence in every event, so the
// extractor stops reading it once this holds.
func (x *Extractor) providerDecided() bool {
	return x.urlProvider != "" || x.bodyRank >= rankMarker
}
