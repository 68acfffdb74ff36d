package usage

import "github.com/httpmeter/httpmeter/internal/eventid"

// newFoldID returns a random idempotency key for a folded total. The "fold-"
// prefix keeps it apart from the IDs of single responses.
func newFoldID() string {
	return "fold-" + eventid.New()
}
