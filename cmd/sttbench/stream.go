package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/sttgo/stt/suite"
)

// `sttbench stream`: stt encrypted-stream goodput on loopback, the stt side
// of bench/compare.sh. Same workload, flags and JSON field names as
// bench/quicstream (without its -duration, -echo and -probes), plus -suite,
// per-block latency percentiles and the transport's retransmission ratio.
//
// A block's latency runs from the moment its sender starts writing it to
// the moment the receiver has read its last byte, so with every stream
// writing flat out it includes the time the block waits for space in the
// send buffer: it measures how much data the stack keeps queued (buffers
// plus bytes in flight, divided by goodput), not the network round trip.

func init() {
	registerCommand("stream", "reliable-stream goodput and block latency over one loopback session (vs bench/quicstream)", streamCommand)
}

// Limits on the flags, so every run is bounded (those of bench/quicstream).
const (
	maxStreamStreams = 64
	maxStreamBytes   = 64 << 30
	maxStreamTimeout = time.Hour
)

// streamConfig is one `sttbench stream` run.
type streamConfig struct {
	// Streams is the number of concurrent streams on one session.
	Streams int
	// Bytes is the total payload, split evenly across the streams (the
	// first Bytes%Streams streams carry one more byte).
	Bytes int64
	// Timeout is the hard deadline of the whole run, set-up included.
	Timeout time.Duration
	// Suite is passed to the transport (suite.ParseName names).
	Suite string
	// Remote roles (stream_remote.go): Listen serves clients in this
	// process; Connect is the client that dials a -listen process. Seed
	// (hex) must be the same on both.
	Listen, Connect, Seed string
	// MTU and MaxMTU set stt.Config's (0: defaults; MaxMTU -1: no path
	// MTU probing). Remote roles only.
	MTU, MaxMTU int
	// Trace names a CSV file the client writes its congestion state to
	// every TraceEvery (remote client only).
	Trace string
	// CC selects the congestion controller (stt.Config.Congestion).
	CC string
}

func (c streamConfig) validate() error {
	bad := func(f string, a ...any) error { return usageError{fmt.Errorf(f, a...)} }
	switch {
	case c.Streams < 1 || c.Streams > maxStreamStreams:
		return bad("-streams %d: want 1..%d", c.Streams, maxStreamStreams)
	case c.Bytes < int64(c.Streams) || c.Bytes > maxStreamBytes:
		return bad("-bytes %d: want %d..%d", c.Bytes, c.Streams, int64(maxStreamBytes))
	case c.Timeout <= 0 || c.Timeout > maxStreamTimeout:
		return bad("-timeout %v: want (0, %v]", c.Timeout, maxStreamTimeout)
	}
	if c.Listen != "" && c.Connect != "" {
		return bad("-listen and -connect exclude each other")
	}
	if (c.Listen != "" || c.Connect != "") && c.Seed == "" {
		return bad("-listen and -connect need -seed (the same hex seed on both ends)")
	}
	if _, err := suite.ParseName(c.Suite); err != nil {
		return bad("-suite: %v", err)
	}
	return nil
}

func parseStreamFlags(args []string, stderr io.Writer) (streamConfig, bool, error) {
	fs := flag.NewFlagSet("stream", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg streamConfig
	fs.IntVar(&cfg.Streams, "streams", 1, fmt.Sprintf("concurrent streams on one session (1..%d)", maxStreamStreams))
	fs.Int64Var(&cfg.Bytes, "bytes", 64<<20, "total payload bytes, split evenly across the streams")
	fs.DurationVar(&cfg.Timeout, "timeout", 60*time.Second, "hard deadline for the whole run")
	fs.StringVar(&cfg.Suite, "suite", "aead", "cipher suite: aead | stc (or names of suite.ParseName)")
	fs.StringVar(&cfg.Listen, "listen", "", "serve remote clients on this UDP address (separate-process mode; runs until -timeout or SIGTERM)")
	fs.StringVar(&cfg.Connect, "connect", "", "dial a `sttbench stream -listen` process at this address and send the workload")
	fs.StringVar(&cfg.Seed, "seed", "", "hex pre-shared seed (>= 16 bytes) for -listen/-connect")
	fs.IntVar(&cfg.MTU, "mtu", 0, "base datagram size (0: stt's default)")
	fs.IntVar(&cfg.MaxMTU, "maxmtu", 0, "path MTU discovery ceiling (0: default, -1: off)")
	fs.StringVar(&cfg.Trace, "trace-cc", "", "write the sender's RTT/cwnd/in-flight every 100 ms to this CSV file (-connect)")
	fs.StringVar(&cfg.CC, "cc", "", "congestion controller: cubic | bbr (empty: stt's default)")
	jsonOut := fs.Bool("json", false, "print one JSON document instead of text")
	profileFlags(fs)
	if err := fs.Parse(args); err != nil {
		return cfg, false, usageError{err}
	}
	if fs.NArg() > 0 {
		return cfg, false, usageError{fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	return cfg, *jsonOut, cfg.validate()
}

func streamCommand(args []string, stdout io.Writer) error {
	cfg, jsonOut, err := parseStreamFlags(args, stdErr)
	if err != nil {
		return err
	}
	switch {
	case cfg.Listen != "":
		stop, err := startProfiles(cpuProfile, traceOut)
		if err != nil {
			return err
		}
		defer stop()
		return serveRemoteStreams(cfg, stdout)
	case cfg.Connect != "":
		return runReport(stdout, jsonOut, func(status func(string)) (remoteResult, error) {
			return runRemoteClient(cfg, status)
		}, writeRemoteTable)
	}
	return runReport(stdout, jsonOut, func(status func(string)) (streamResult, error) {
		return runStreamBench(cfg, newSTTTransport, status)
	}, writeStreamTable)
}
