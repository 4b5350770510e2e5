package main

import (
	"os"
	"runtime/pprof"
)

// cpuProfile is the -cpuprofile flag of the current command.
var cpuProfile string

// startCPUProfile starts a CPU profile into path (no-op for "") and returns
// the function that stops it and closes the file.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
