package transport

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run when a test leaves a goroutine behind, such as a
// connection that a transport kept open or a body wrapper still reading.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
