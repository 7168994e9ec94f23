//go:build unix

package discover

import (
	"syscall"
	"testing"
	"time"
)

// cpuTime is the user+system CPU time used so far by this process.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
