//go:build unix

package transport

import (
	"syscall"
	"time"
)

// processCPUTime returns the user and system CPU time the test process has
// used so far, and whether the platform reports it.
func processCPUTime() (time.Duration, bool) {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		return 0, false
	}
	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano()), true
}
