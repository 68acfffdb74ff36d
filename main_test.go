package httpmeter_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves a goroutine behind: every
// server, sender and connection a test starts must be closed by its end.
//
// The one goroutine ignored is started by an init function of
// go.opencensus.io v0.24.0, which the Databricks SDK links in through its
// Google Cloud authentication. It runs for the life of the process whether
// or not a test uses the SDK.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("go.opencensus.io/stats/view.(*worker).start"))
}
