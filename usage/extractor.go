package usage

import "net/http"

// Result is what an [Extractor] found in a response body.
type Result struct {
	// Provider is the API family detected from the body and the URL.
	Provider string

	// Model is the model the body names, else the one in the request URL.
	Model string

	// Usage holds the last complete usage snapshot seen.
	Usage Usage

	// Found reports whether the body carried a usage object.
	Found bool

	// Complete is false when the body ended before its format was complete
	// or reported an error inside a successful response.
	Complete bool

	// Warnings lists counts that were rejected or clamped, and error events.
	Warnings []string
}

// Extractor finds the usage in a response body that is fed to it as the
// caller reads it. It keeps O(1) memory whatever the body size. An Extractor
// is not safe for concurrent use.
type Extractor struct {
	// TODO: replaced by the streaming implementation.
}

// NewExtractor returns an extractor for resp, the response to req, and false
// when the content type is not one whose usage it can read.
func NewExtractor(req *http.Request, resp *http.Response) (*Extractor, bool) {
	return &Extractor{}, true
}

// Write feeds the next bytes of the body. It always returns len(p), nil.
func (x *Extractor) Write(p []byte) (int, error) { return len(p), nil }

// Finish ends extraction and returns the result. bodyEnded reports whether
// the body was read to EOF. Finish releases the extractor's resources; call
// it exactly once.
func (x *Extractor) Finish(bodyEnded bool) Result { return Result{Complete: bodyEnded} }
