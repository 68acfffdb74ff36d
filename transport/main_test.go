package transport

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run when a test leaves a goroutine behind, such as a
// connection that a transport kept open or a body wrapper still reading.
// The Databricks SDK imports go.opencensus.io, whose stats worker starts in
// a package init and runs for the life of the process, so it is ignored.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("go.opencensus.io/stats/view.(*worker).start"))
}
