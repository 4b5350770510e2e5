//go:build unix

package main

import (
	"os"
	"syscall"
)

// statsSignals are the signals on which `sttbench stream -listen` prints
// its sessions' counters (see serveRemoteStreams).
var statsSignals = []os.Signal{syscall.SIGUSR1}
