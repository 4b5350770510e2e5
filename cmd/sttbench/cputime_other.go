//go:build !unix

package main

import "time"

// cpuTimes is not measured on this platform (no getrusage): it reports 0.
func cpuTimes() (user, sys time.Duration) { return 0, 0 }
