// Command quicstream measures quic-go encrypted-stream goodput on loopback,
// the comparison side of `sttbench stream` (stt issue 6).
//
// One process runs a quic-go server and client on 127.0.0.1 (ephemeral port,
// in-memory self-signed ECDSA P-256 certificate, TLS 1.3), opens -streams
// streams on one connection and sends -bytes of payload in total (or sends
// for -duration) from client to server. The server hashes what it reads with
// SHA-256 and returns the digest (or, with -echo, echoes every byte back and
// the client hashes the echo); the client compares against the SHA-256 of
// what it sent, so a run only reports goodput for data that arrived intact.
//
//	quicstream [-streams 1] [-bytes 67108864 | -duration 5s] [-echo] [-probes 200] [-timeout 60s] [-json]
//	quicstream -listen ADDR -certfile F            (server, separate process)
//	quicstream -connect ADDR -certfile F [-streams N] [-bytes B]  (client; prints JSON)
//
// Every run ends by -timeout (exit status 1 with ErrTimeout); a watchdog
// exits the process with status 3 shortly after that if anything hangs.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"
)

func main() {
	os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
}

// realMain parses args, runs the benchmark and prints the report to stdout
// (a table, or one JSON document with -json). It returns the exit status:
// 0 success, 1 run failure, 2 usage error.
func realMain(args []string, stdout, stderr io.Writer) int {
	cfg, jsonOut, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		if errors.Is(err, ErrConfig) { // flag parse errors are already printed by fs
			fmt.Fprintln(stderr, err)
		}
		return 2
	}
	// Backstop for the hard deadline: runBench closes everything at
	// cfg.timeout; if something still hangs, exit anyway.
	watchdog := time.AfterFunc(cfg.timeout+5*time.Second, func() {
		fmt.Fprintln(stderr, "quicstream: watchdog: run did not stop after its deadline")
		os.Exit(3)
	})
	defer watchdog.Stop()

	if cfg.listen != "" {
		if err := serveRemote(cfg, stdout); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		return 0
	}
	if cfg.connect != "" {
		res, err := runRemoteClient(cfg)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		if err := json.NewEncoder(stdout).Encode(res); err != nil {
			return 1
		}
		return 0
	}
	res, err := runBench(cfg)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if jsonOut {
		if err := json.NewEncoder(stdout).Encode(res); err != nil {
			fmt.Fprintln(stderr, "quicstream:", err)
			return 1
		}
		return 0
	}
	writeText(stdout, res)
	return 0
}

// parseFlags turns the command line into a validated config.
func parseFlags(args []string, stderr io.Writer) (config, bool, error) {
	fs := flag.NewFlagSet("quicstream", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	fs.IntVar(&cfg.streams, "streams", 1, fmt.Sprintf("concurrent streams on one connection (1..%d)", maxStreams))
	fs.Int64Var(&cfg.bytes, "bytes", 64<<20, "total payload bytes, split evenly across the streams")
	fs.DurationVar(&cfg.duration, "duration", 0, "send for this long per stream instead of -bytes")
	fs.BoolVar(&cfg.echo, "echo", false, "server echoes the payload back (client verifies the echo)")
	fs.IntVar(&cfg.probes, "probes", 200, "request/response latency probes after the bulk phase (0: none)")
	fs.DurationVar(&cfg.timeout, "timeout", 60*time.Second, "hard deadline for the whole run")
	fs.StringVar(&cfg.listen, "listen", "", "serve remote clients on this UDP address (separate-process mode)")
	fs.StringVar(&cfg.connect, "connect", "", "dial a -listen process at this address and send the workload")
	fs.StringVar(&cfg.certFile, "certfile", "", "PEM certificate file: written by -listen, trusted by -connect")
	jsonOut := fs.Bool("json", false, "print one JSON document instead of text")
	if err := fs.Parse(args); err != nil {
		return cfg, false, err
	}
	if fs.NArg() > 0 {
		return cfg, false, fmt.Errorf("%w: unexpected arguments %q", ErrConfig, fs.Args())
	}
	return cfg, *jsonOut, cfg.validate()
}

// writeText prints the report for humans.
func writeText(w io.Writer, r result) {
	mode := "discard"
	if r.Echo {
		mode = "echo"
	}
	fmt.Fprintf(w, "quic-go %s: %d stream(s), %d bytes in %.3f s, SHA-256 verified\n", mode, r.Streams, r.Bytes, r.Seconds)
	fmt.Fprintf(w, "goodput: %.1f MB/s  %.3f Gbit/s\n", r.GoodputMBps, r.GoodputGbits)
	for i, v := range r.PerStreamMBps {
		fmt.Fprintf(w, "  stream %2d: %10d bytes  %8.1f MB/s\n", i, r.PerStreamBytes[i], v)
	}
	fmt.Fprintf(w, "cpu: %.3f s (user %.3f, sys %.3f), %.2f cores, both endpoints\n",
		r.CPUSeconds, r.CPUUserSeconds, r.CPUSysSeconds, r.CPUSeconds/r.Seconds)
	fmt.Fprintf(w, "client: %d packets sent, %d lost (%d bytes), smoothed RTT %.0f µs\n",
		r.PacketsSent, r.PacketsLost, r.BytesLost, r.SmoothedRTT)
	if r.Probes > 0 {
		fmt.Fprintf(w, "probe: %d × %d-byte request/response: p50 %.0f µs, p99 %.0f µs\n",
			r.Probes, probeSize, r.ProbeP50us, r.ProbeP99us)
	}
	fmt.Fprintf(w, "host: %s, GOMAXPROCS %d, %d CPUs\n", r.GoVersion, r.GOMAXPROCS, r.NumCPU)
}
