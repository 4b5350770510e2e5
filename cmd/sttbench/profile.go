package main

import (
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"runtime/trace"
)

// cpuProfile and traceOut are the -cpuprofile and -trace flags of the
// current command.
var cpuProfile, traceOut string

// startProfiles starts a CPU profile into cpuPath and a runtime execution
// trace into tracePath (each skipped when ""), and returns the function
// that stops both and closes their files.
func startProfiles(cpuPath, tracePath string) (stop func(), err error) {
	var stops []func()
	stopAll := func() {
		for _, s := range stops {
			s()
		}
	}
	if cpuPath != "" {
		f, err := os.Create(cpuPath)
		if err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, err
		}
		stops = append(stops, func() { pprof.StopCPUProfile(); f.Close() })
	}
	if tracePath != "" {
		f, err := os.Create(tracePath)
		if err != nil {
			stopAll()
			return nil, err
		}
		if err := trace.Start(f); err != nil {
			f.Close()
			stopAll()
			return nil, fmt.Errorf("sttbench: execution trace: %w", err)
		}
		stops = append(stops, func() { trace.Stop(); f.Close() })
	}
	return stopAll, nil
}

// profileFlags registers -cpuprofile and -trace on a command's flag set.
func profileFlags(fs *flag.FlagSet) {
	fs.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file")
	fs.StringVar(&traceOut, "trace", "", "write a runtime execution trace of the run to this file (go tool trace)")
}
