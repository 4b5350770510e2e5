package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"runtime"
	"time"
)

// errEngineModeUnavailable is returned by runEngineDatagram while the engine
// data path is not built yet.
var errEngineModeUnavailable = errors.New("sttbench: engine mode is not available yet")

// datagramConfig is the input of one datagram benchmark run (one mode).
//
// A mode runner (runRawDatagram, runConnDatagram, runEngineDatagram) sends
// Size-byte payloads from Flows sender sockets/goroutines to a receiver
// bound on Addr (loopback) for Duration, in batches of Batch messages, then
// drains the receiver for a short while and returns. Every loop stops by
// itself when Duration is over. Runners built on runBlast get all of this
// (and the measurement marks) for free by supplying a blastMode.
type datagramConfig struct {
	// Mode is "raw", "conn" or "engine" (runners see one mode; "all" is
	// expanded by the command).
	Mode string
	// Duration is how long the senders send.
	Duration time.Duration
	// Size is the UDP payload size in bytes of each datagram.
	Size int
	// Batch is the number of messages per sendmmsg/recvmmsg (or WriteBatch/
	// ReadBatch) call.
	Batch int
	// Flows is the number of sender goroutines, each with its own socket.
	Flows int
	// GSO and GRO are "on", "off" or "auto". "on" fails the run if the kernel
	// lacks the feature, "auto" uses it when available.
	GSO, GRO string
	// Segs is the number of datagrams per GSO message (0: as many as fit,
	// up to 64 and 65507 bytes).
	Segs int
	// Addr is the receiver's IP (loopback only), e.g. 127.0.0.1 or ::1.
	Addr string
	// Role is "both" (sender and receiver in this process), "send" or
	// "recv" (two-process runs).
	Role string
	// Peer is the receiver's ip:port for Role "send".
	Peer string
	// Suite, if set, adds one "session-<suite>" mode per comma-separated
	// name: stt sessions with that cipher suite (see runSessionDatagram).
	Suite string
	// Port is the receiver's port (0: ephemeral) for Role "both" or "recv".
	Port int
	// RawTouch makes mode "raw" do the least per-datagram work any real
	// sender and receiver must do (see rawTouchHelp); false measures the
	// kernel's ceiling: one prebuilt buffer re-sent, GRO segments counted
	// from their size without being read.
	RawTouch bool
	// EngineCopy makes mode "engine" send every frame with Shard.Send,
	// which copies the payload into the output; by default the sender
	// reserves the frame in the output with Shard.Reserve and writes only
	// its header (see engineCopyHelp).
	EngineCopy bool
	// Inline sets engine.Config.InlineDelivery on the engine receiver.
	Inline bool
	// Progress, when non-nil, is called about once per second from a
	// separate goroutine with the running totals (for the live line).
	Progress func(sent, received uint64)

	// onListen, when non-nil, is called by runBlast with the receiver's
	// bound address before any datagram is sent (tests use it).
	onListen func(netip.AddrPort)

	// marks, when non-nil, records the process counters at the start and
	// end of the send phase (see markStart, markStop).
	marks *phaseMarks
}

// datagramResult is the outcome of one run. A runner fills the counters and
// Elapsed, GSO and GRO; measure fills the rates, the allocation and GC
// figures and the CPU time.
type datagramResult struct {
	Mode  string `json:"mode"`
	Size  int    `json:"size"`
	Batch int    `json:"batch"`
	Flows int    `json:"flows"`
	// GSO and GRO report what the run actually used.
	GSO bool `json:"gso"`
	GRO bool `json:"gro"`

	// Sent and Received count datagrams (a GSO or GRO super-datagram counts
	// as its number of segments); SentBytes and ReceivedBytes count payload
	// bytes. Received is counted after a short drain following the send.
	Sent          uint64 `json:"sent"`
	Received      uint64 `json:"received"`
	SentBytes     uint64 `json:"sent_bytes"`
	ReceivedBytes uint64 `json:"received_bytes"`
	// Elapsed is the send phase's wall time (the rate denominator).
	Elapsed time.Duration `json:"elapsed_ns"`

	// Filled by measure:
	RecvPPS   float64       `json:"recv_pps"`
	SendPPS   float64       `json:"send_pps"`
	RecvGbps  float64       `json:"recv_gbps"`
	Loss      float64       `json:"loss"`
	Allocs    uint64        `json:"allocs"`
	GCCycles  uint32        `json:"gc_cycles"`
	CPUUser   time.Duration `json:"cpu_user_ns"`
	CPUSystem time.Duration `json:"cpu_sys_ns"`
}

// snapshot is the process counters measure compares.
type snapshot struct {
	mallocs   uint64
	gc        uint32
	user, sys time.Duration
}

func takeSnapshot() snapshot {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	u, s := cpuTimes()
	return snapshot{mallocs: ms.Mallocs, gc: ms.NumGC, user: u, sys: s}
}

// phaseMarks holds the snapshots taken around the send phase.
type phaseMarks struct {
	start, stop      snapshot
	started, stopped bool
}

// markStart records the counters right before the send phase begins
// (after sockets and buffers are set up). Runners should call it; measure
// falls back to the whole call otherwise.
func (cfg *datagramConfig) markStart() {
	if cfg.marks != nil {
		cfg.marks.start, cfg.marks.started = takeSnapshot(), true
	}
}

// markStop records the counters right after the drain, before teardown.
func (cfg *datagramConfig) markStop() {
	if cfg.marks != nil {
		cfg.marks.stop, cfg.marks.stopped = takeSnapshot(), true
	}
}

// measure runs one mode and fills the derived figures of its result.
func measure(cfg datagramConfig, runner func(datagramConfig) (datagramResult, error)) (datagramResult, error) {
	cfg.marks = &phaseMarks{}
	before := takeSnapshot()
	r, err := runner(cfg)
	after := takeSnapshot()
	if err != nil {
		return r, err
	}
	if cfg.marks.started && cfg.marks.stopped {
		before, after = cfg.marks.start, cfg.marks.stop
	}
	r.Mode, r.Size, r.Batch, r.Flows = cfg.Mode, cfg.Size, cfg.Batch, cfg.Flows
	if s := r.Elapsed.Seconds(); s > 0 {
		r.RecvPPS = float64(r.Received) / s
		r.SendPPS = float64(r.Sent) / s
		r.RecvGbps = float64(r.ReceivedBytes) * 8 / s / 1e9
	}
	if r.Sent > 0 && r.Received <= r.Sent {
		r.Loss = float64(r.Sent-r.Received) / float64(r.Sent)
	}
	r.Allocs = after.mallocs - before.mallocs
	r.GCCycles = after.gc - before.gc
	r.CPUUser, r.CPUSystem = after.user-before.user, after.sys-before.sys
	return r, nil
}

// rawTouchHelp documents -rawtouch, the fairness rule of the raw baseline.
const rawTouchHelp = `raw mode does the least per-datagram work a real protocol must do: the
receiver reads an 8-byte sequence number from every datagram, splitting GRO runs
by segment size, and the sender writes fresh numbers into every datagram of its
message buffer before each sendmmsg (all messages of one call share that buffer,
as without -rawtouch, so its cache footprint stays that of one message). The
engine does more: it encodes and decodes a whole STT frame per datagram.
-rawtouch=false is the kernel's ceiling: one prebuilt buffer re-sent unchanged,
and GRO runs counted from their size without reading a byte`

// engineCopyHelp documents -enginecopy.
const engineCopyHelp = `engine mode's sender copies a Size-byte payload into every frame with
Shard.Send (the cost of producing payload bytes, which raw mode does not pay);
by default it reserves each frame in the output with Shard.Reserve and writes
the whole STT frame header (magic, length, 30-byte header, metadata length)
but leaves the payload bytes as they are, as raw mode leaves its buffer`

// runners maps a mode to its implementation.
var runners = map[string]func(datagramConfig) (datagramResult, error){
	"raw":    runRawDatagram,
	"conn":   runConnDatagram,
	"engine": runEngineDatagram,
}

func init() {
	registerCommand("datagram", "blast UDP datagrams over loopback: raw syscalls vs engine/conn vs engine", datagramCommand)
}

// usageError marks a command-line mistake (exit status 2).
type usageError struct{ error }

func isUsage(err error) bool { var u usageError; return errors.As(err, &u) }

func parseDatagramFlags(args []string, stderr io.Writer) (datagramConfig, bool, error) {
	fs := flag.NewFlagSet("datagram", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := datagramConfig{}
	fs.StringVar(&cfg.Mode, "mode", "all", "raw | conn | engine | all (all: every mode in this process, with ratios to raw)")
	fs.DurationVar(&cfg.Duration, "duration", 3*time.Second, "send phase per mode")
	fs.IntVar(&cfg.Size, "size", 1200, "UDP payload bytes per datagram")
	fs.IntVar(&cfg.Batch, "batch", 64, "messages per sendmmsg/recvmmsg (WriteBatch/ReadBatch)")
	fs.IntVar(&cfg.Flows, "flows", 1, "sender goroutines, one socket each")
	fs.StringVar(&cfg.GSO, "gso", "auto", "UDP GSO on send: on | off | auto")
	fs.StringVar(&cfg.GRO, "gro", "auto", "UDP GRO on receive: on | off | auto")
	fs.IntVar(&cfg.Segs, "segs", 0, "datagrams per GSO message (0: up to 64 within 65507 bytes)")
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1", "receiver IP (loopback only)")
	fs.IntVar(&cfg.Port, "port", 0, "receiver port (0: ephemeral)")
	fs.BoolVar(&cfg.RawTouch, "rawtouch", true, rawTouchHelp)
	fs.BoolVar(&cfg.EngineCopy, "enginecopy", false, engineCopyHelp)
	fs.BoolVar(&cfg.Inline, "inline", true, "engine mode: the receiver runs with engine.Config.InlineDelivery (its receive loop\nruns the shard's step itself when a read batch went to one idle shard)")
	fs.StringVar(&cfg.Role, "role", "both", "both | send | recv (send/recv: two processes, see -peer)")
	fs.StringVar(&cfg.Peer, "peer", "", "receiver ip:port for -role send")
	fs.StringVar(&cfg.Suite, "suite", "", "also run stt sessions with these suites (comma-separated: aead, stc, or suite names)")
	jsonOut := fs.Bool("json", false, "print one JSON document instead of a table")
	profileFlags(fs)
	if err := fs.Parse(args); err != nil {
		return cfg, false, usageError{err}
	}
	if fs.NArg() > 0 {
		return cfg, false, usageError{fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	return cfg, *jsonOut, validateDatagram(&cfg)
}

func validateDatagram(cfg *datagramConfig) error {
	bad := func(f string, a ...any) error { return usageError{fmt.Errorf(f, a...)} }
	switch cfg.Mode {
	case "raw", "conn", "engine", "all":
	default:
		return bad("-mode %q: want raw, conn, engine or all", cfg.Mode)
	}
	for _, v := range []struct{ name, val string }{{"gso", cfg.GSO}, {"gro", cfg.GRO}} {
		switch v.val {
		case "on", "off", "auto":
		default:
			return bad("-%s %q: want on, off or auto", v.name, v.val)
		}
	}
	switch cfg.Role {
	case "both", "send", "recv":
	default:
		return bad("-role %q: want both, send or recv", cfg.Role)
	}
	if cfg.Duration <= 0 || cfg.Duration > time.Hour {
		return bad("-duration %v: want (0, 1h]", cfg.Duration)
	}
	if cfg.Size < 1 || cfg.Size > 65507 {
		return bad("-size %d: want 1..65507", cfg.Size)
	}
	if cfg.Batch < 1 || cfg.Batch > 1024 {
		return bad("-batch %d: want 1..1024", cfg.Batch)
	}
	if cfg.Flows < 1 || cfg.Flows > 64 {
		return bad("-flows %d: want 1..64", cfg.Flows)
	}
	if cfg.Segs < 0 || cfg.Segs > 64 {
		return bad("-segs %d: want 0..64", cfg.Segs)
	}
	if cfg.Port < 0 || cfg.Port > 65535 {
		return bad("-port %d", cfg.Port)
	}
	a, err := netip.ParseAddr(cfg.Addr)
	if err != nil || !a.IsLoopback() {
		return bad("-addr %q: want a loopback IP (127.0.0.1 or ::1)", cfg.Addr)
	}
	if cfg.Role == "send" {
		p, err := netip.ParseAddrPort(cfg.Peer)
		if err != nil || !p.Addr().IsLoopback() || p.Port() == 0 {
			return bad("-peer %q: want a loopback ip:port for -role send", cfg.Peer)
		}
	}
	if cfg.Mode == "all" && cfg.Role != "both" {
		return bad("-mode all needs -role both")
	}
	if _, err := sessionModes(cfg.Suite); err != nil {
		return err
	}
	if cfg.Suite != "" && cfg.Role != "both" {
		return bad("-suite needs -role both")
	}
	return nil
}

// datagramReport is the whole output of one sttbench datagram invocation.
type datagramReport struct {
	Runs []datagramResult `json:"runs"`
	// Skipped names modes that could not run, with the reason.
	Skipped map[string]string `json:"skipped,omitempty"`
	// Ratios are received-rate ratios to raw ("conn/raw", "engine/raw").
	Ratios map[string]float64 `json:"ratios,omitempty"`
	Host   hostInfo           `json:"host"`
}

// hostInfo identifies the machine a report came from.
type hostInfo struct {
	GOOS       string `json:"goos"`
	GOARCH     string `json:"goarch"`
	NumCPU     int    `json:"num_cpu"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	Go         string `json:"go"`
}

// thisHost describes the machine and runtime the benchmark runs on.
func thisHost() hostInfo {
	return hostInfo{runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version()}
}

func datagramCommand(args []string, stdout io.Writer) error {
	cfg, jsonOut, err := parseDatagramFlags(args, stdErr)
	if err != nil {
		return err
	}
	stop, err := startProfiles(cpuProfile, traceOut)
	if err != nil {
		return err
	}
	rep, err := runDatagramModes(cfg, stdout, !jsonOut && isTerminal(stdout))
	stop()
	if err != nil {
		return err
	}
	if jsonOut {
		return writeJSON(stdout, rep)
	}
	writeTable(stdout, rep)
	return nil
}

// runDatagramModes runs cfg.Mode (every mode for "all") and collects the
// report. progress enables the live line on w.
func runDatagramModes(cfg datagramConfig, w io.Writer, progress bool) (datagramReport, error) {
	rep := datagramReport{Host: thisHost()}
	modes := []string{cfg.Mode}
	if cfg.Mode == "all" {
		modes = []string{"raw", "conn", "engine"}
	}
	sm, _ := sessionModes(cfg.Suite) // validated
	modes = append(modes, sm...)
	for _, m := range modes {
		c := cfg
		c.Mode = m
		var pl *progressLine
		if progress {
			pl = newProgressLine(w, m)
			c.Progress = pl.update
		}
		r, err := measure(c, runners[m])
		if pl != nil {
			pl.done()
		}
		if err != nil {
			if cfg.Mode == "all" && (errors.Is(err, errEngineModeUnavailable) || errors.Is(err, errRawUnsupported)) {
				if rep.Skipped == nil {
					rep.Skipped = map[string]string{}
				}
				rep.Skipped[m] = err.Error()
				continue
			}
			return rep, fmt.Errorf("mode %s: %w", m, err)
		}
		rep.Runs = append(rep.Runs, r)
	}
	rep.Ratios = ratios(rep.Runs)
	return rep, nil
}

// ratios compares each mode's received rate with raw's.
func ratios(runs []datagramResult) map[string]float64 {
	var raw float64
	for _, r := range runs {
		if r.Mode == "raw" {
			raw = r.RecvPPS
		}
	}
	if raw == 0 {
		return nil
	}
	out := map[string]float64{}
	for _, r := range runs {
		if r.Mode != "raw" {
			out[r.Mode+"/raw"] = r.RecvPPS / raw
		}
	}
	return out
}
