//go:build !unix

package httpmeter_test

import "time"

// processCPUTime reports that this platform gives no process CPU time, so
// the benchmarks leave out their cpu-ns/op metric.
func processCPUTime() (time.Duration, bool) { return 0, false }
