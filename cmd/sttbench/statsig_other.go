//go:build !unix

package main

import "os"

// statsSignals is empty where SIGUSR1 does not exist: the counters are
// printed only when the server stops.
var statsSignals []os.Signal
