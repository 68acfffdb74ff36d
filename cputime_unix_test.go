//go:build unix

package httpmeter_test

import (
	"syscall"
	"time"
)

// processCPUTime returns the user and system CPU time the test process has
// used so far, and whether the platform reports it.
func processCPUTime() (time.Duration, bool) {
	var rusage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &rusage); err != nil {
		return 0, false
	}
	return time.Duration(rusage.Utime.Nano() + rusage.Stime.Nano()), true
}
