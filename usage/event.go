package usage

import (
	"time"

	"github.com/httpmeter/httpmeter/authctx"
	"github.com/httpmeter/httpmeter/product"
)

// Source is the origin of the counts of an [Event].
type Source string

const (
	// SourceReported means the provider reported the counts in the body.
	SourceReported Source = "reported"

	// SourceMissing means the body carried no usage, so the counts are
	// unknown rather than zero.
	SourceMissing Source = "missing"
)

// Event is one metered response, or a folded total of several.
type Event struct {
	// ID is a random idempotency key; a sink that retries sends it again.
	ID string

	// Time is when the request was sent.
	Time time.Time

	// Product is the product the request was made for.
	Product product.Product

	// Credential is the credential that authenticated the request, captured
	// when the request was made. It is zero when the caller set its own
	// Authorization header.
	Credential authctx.Credential

	// Method, Host and Path describe the request. Path never contains the
	// query string, which may carry secrets.
	Method string
	Host   string
	Path   string

	// Status is the HTTP status code of the response.
	Status int

	// Duration runs from sending the request to the end of its body.
	Duration time.Duration

	// Provider is the API family detected from the body and URL, such as
	// "openai" or "anthropic".
	Provider string

	// Model is the model the response names, or the one in the request URL.
	Model string

	// Usage holds the token counts, valid when Source is SourceReported.
	Usage Usage

	// Source records whether the provider reported the counts.
	Source Source

	// Complete reports whether the body was read to its end, or to its
	// format's final message such as "data: [DONE]", without an error. A
	// stream that the caller closed before that, or that carried an error
	// event, is incomplete and its counts are what was seen.
	Complete bool

	// Warnings lists why counts were rejected or clamped, or which error the
	// stream reported. It never contains body content beyond such reasons.
	Warnings []string

	// Count is the number of responses the event stands for: 1 for one
	// response, more for a total that a Sender folded together.
	Count int
}
