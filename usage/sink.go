package usage

import "context"

// Sink delivers batches of events to their destination. A [Sender] calls Send
// from its worker goroutines, never on the request path; Send must honour the
// deadline of ctx and be safe for concurrent use. The events slice is only
// valid during the call.
type Sink interface {
	Send(ctx context.Context, events []Event) error
}
