package usage

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves a goroutine behind, such as a
// Sender worker after Close or an HTTP connection of a sink.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
