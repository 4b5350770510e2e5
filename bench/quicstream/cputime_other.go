//go:build !unix

package main

import "time"

// cpuTimes is not implemented off unix: it reports zero CPU time, and the
// report's cpu_seconds is then 0.
func cpuTimes() (user, sys time.Duration) { return 0, 0 }
