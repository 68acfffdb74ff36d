//go:build !unix

package transport

import "time"

// processCPUTime reports false where getrusage is not available.
func processCPUTime() (time.Duration, bool) { return 0, false }
