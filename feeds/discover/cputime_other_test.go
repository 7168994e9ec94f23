//go:build !unix

package discover

import (
	"testing"
	"time"
)

// cpuTime falls back to wall time where rusage is unavailable.
func cpuTime(*testing.B) time.Duration { return time.Duration(time.Now().UnixNano()) }
