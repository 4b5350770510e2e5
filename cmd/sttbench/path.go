//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/sttgo/stt/cmd/internal/pathemu"
)

// `sttbench path`: stt and quic-go over emulated paths between network
// namespaces (issue 12's scenario table). Three namespaces: the client and
// the server, each end a separate process, and the middle one running
// `sttbench bridge` (internal/pathemu) that delays, queues, drops and
// reorders frames in user space (kernels without sch_netem). The tools run
// alternately, run by run; every transfer is SHA-256-verified and its
// goodput counts from the start of Dial.

func init() {
	registerCommand("path", "stt vs quic-go over emulated paths between network namespaces (needs root)", pathCommand)
}

// pathScenario is one row of the table.
type pathScenario struct {
	Name    string
	Desc    string
	Direct  bool // the plain veth pair, no bridge
	Bridge  bridgeFlags
	Streams int
	Bytes   int64
	SttArgs []string // extra `sttbench stream` flags
}

// pathScenarios is issue 12's table. Byte counts keep each run to a few
// seconds at quic-go's rates.
func pathScenarios() []pathScenario {
	gig := bridgeFlags{rateMbit: 1000, rtt: 20 * time.Millisecond, queueBDP: 1, seed: 1}
	loss1 := gig
	loss1.loss = 1
	corr := gig
	corr.loss, corr.lossCorr, corr.jitter = 2, 25, time.Millisecond
	return []pathScenario{
		{Name: "veth", Desc: "plain veth, no bridge, no impairment", Direct: true, Streams: 1, Bytes: 256 << 20},
		{Name: "clean20", Desc: "20 ms, 1 Gbit/s, queue 1 BDP, no loss", Bridge: gig, Streams: 1, Bytes: 128 << 20},
		{Name: "clean20-nopmtu", Desc: "same, stt without PMTU probing (MTU 1472)", Bridge: gig, Streams: 1, Bytes: 128 << 20,
			SttArgs: []string{"-mtu", "1472", "-maxmtu", "-1"}},
		{Name: "loss1", Desc: "20 ms, 1 Gbit/s, 1% loss, 1 stream", Bridge: loss1, Streams: 1, Bytes: 16 << 20},
		{Name: "loss1-8s", Desc: "20 ms, 1 Gbit/s, 1% loss, 8 streams", Bridge: loss1, Streams: 8, Bytes: 16 << 20},
		{Name: "long50", Desc: "50 ms, 200 Mbit/s, 0.5% loss", Bridge: bridgeFlags{rateMbit: 200, rtt: 50 * time.Millisecond, queueBDP: 1, loss: 0.5, seed: 1}, Streams: 1, Bytes: 16 << 20},
		{Name: "corr2", Desc: "20 ms, 1 Gbit/s, 2% loss 25% correlated, ±1 ms jitter", Bridge: corr, Streams: 1, Bytes: 16 << 20},
		{Name: "long100", Desc: "100 ms, 100 Mbit/s, 0.1% loss", Bridge: bridgeFlags{rateMbit: 100, rtt: 100 * time.Millisecond, queueBDP: 1, loss: 0.1, seed: 1}, Streams: 1, Bytes: 32 << 20},
	}
}

// pathConfig is one `sttbench path` invocation.
type pathConfig struct {
	Runs      int
	Only      []string
	Quic      string // bench/quicstream binary ("" : stt only)
	CC        string // stt's controller
	Timeout   time.Duration
	TraceDir  string
	ProfDir   string // CPU profiles of stt's two ends, one pair per run
	ByteScale float64
	Ceiling   bool
}

// pathSample is one client run.
type pathSample struct {
	Goodput, DialMS float64
	Lost, Spurious  uint64
	// CPUClient and CPUServer are each end's process CPU time (user +
	// system, from the kernel's rusage of the exited process) in seconds
	// per GB (10^9) of payload: what the transfer cost, which contention
	// from other work on the machine disturbs far less than goodput. The
	// server's covers its whole life (start-up and idle included).
	CPUClient, CPUServer float64
	// SysClient and SysServer are stt's send and receive system calls
	// (the engines' tx_batches + rx_batches) per MB of payload, AcksOut
	// the ACK frames the server sent per MB (0 for quic-go).
	SysClient, SysServer, AcksOut float64
	// GapDrops counts the STREAM frames the server dropped unacknowledged
	// because they would have opened one gap too many in a stream's
	// reassembly buffer (drop_stream_gaps; 0 for quic-go).
	GapDrops uint64
	Err      string
}

// pathRow is one scenario's results.
type pathRow struct {
	Scenario pathScenario
	STT      []pathSample
	Quic     []pathSample
	Bridge   string  // the bridge's counters, summarised
	Ceiling  float64 // raw UDP payload MB/s through the path (-ceiling), 0 if not measured
}

func pathCommand(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("path", flag.ContinueOnError)
	fs.SetOutput(stdErr)
	var cfg pathConfig
	fs.IntVar(&cfg.Runs, "runs", 5, "runs of each tool per scenario (alternating)")
	only := fs.String("only", "", "comma-separated scenario names (default: all): "+scenarioNames())
	fs.StringVar(&cfg.Quic, "quic", "", "bench/quicstream binary (built from bench/); empty: stt only")
	fs.StringVar(&cfg.CC, "cc", "", "stt congestion controller (cubic | bbr | newreno; empty: default)")
	fs.DurationVar(&cfg.Timeout, "timeout", 120*time.Second, "hard deadline of one transfer (a stall fails the run)")
	fs.StringVar(&cfg.TraceDir, "trace-dir", "", "write stt's 100 ms cwnd/RTT trace of every run into this directory")
	fs.Float64Var(&cfg.ByteScale, "scale", 1, "multiply every scenario's byte count")
	fs.StringVar(&cfg.ProfDir, "profile-dir", "", "write CPU profiles of stt's client and server of every run into this directory")
	fs.BoolVar(&cfg.Ceiling, "ceiling", false, "first blast raw UDP (1472-byte datagrams, 2 s) through each path: what the path itself carries")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if *only != "" {
		cfg.Only = strings.Split(*only, ",")
	}
	if cfg.Runs < 1 || cfg.Runs > 100 || !(cfg.ByteScale > 0) {
		return usageError{errors.New("-runs 1..100 and a positive -scale")}
	}
	if why := pathemu.Available(); why != "" {
		return fmt.Errorf("sttbench path needs network namespaces: %s", why)
	}
	for _, d := range []string{cfg.TraceDir, cfg.ProfDir} {
		if d == "" {
			continue
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	rows, err := runPaths(ctx, cfg, func(s string) { fmt.Fprintln(stdErr, s) })
	writePathTable(stdout, cfg, rows)
	return err
}

func scenarioNames() string {
	var n []string
	for _, s := range pathScenarios() {
		n = append(n, s.Name)
	}
	return strings.Join(n, ",")
}

// runPaths builds the topology, runs every selected scenario and removes
// everything it created before returning.
func runPaths(ctx context.Context, cfg pathConfig, log func(string)) ([]pathRow, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	var scen []pathScenario
	for _, s := range pathScenarios() {
		if len(cfg.Only) == 0 || slices.Contains(cfg.Only, s.Name) {
			s.Bytes = int64(float64(s.Bytes) * cfg.ByteScale)
			scen = append(scen, s)
		}
	}
	if len(scen) == 0 {
		return nil, usageError{fmt.Errorf("no scenario selected (names: %s)", scenarioNames())}
	}
	topo, err := pathemu.NewTopology()
	if err != nil {
		return nil, err
	}
	defer topo.Close()
	tmp, err := os.MkdirTemp("", "sttbench-path-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	var rows []pathRow
	for _, sc := range scen {
		row, err := runScenario(ctx, cfg, topo, self, tmp, sc, log)
		rows = append(rows, row)
		if err != nil {
			return rows, err
		}
	}
	return rows, nil
}

// runScenario runs one row: the bridge (unless Direct), then cfg.Runs runs
// of each tool, alternating which goes first.
func runScenario(ctx context.Context, cfg pathConfig, topo *pathemu.Topology, self, tmp string, sc pathScenario, log func(string)) (pathRow, error) {
	row := pathRow{Scenario: sc}
	srvAddr := pathemu.ServerAddr
	if sc.Direct {
		srvAddr = pathemu.DirectSAddr
	}
	var bridge *pathProc
	if !sc.Direct {
		var err error
		bridge, err = startProc(ctx, topo, pathemu.Middle, "ready", self, append([]string{"bridge", "-timeout", "2h"}, sc.Bridge.args()...)...)
		if err != nil {
			return row, fmt.Errorf("bridge: %w", err)
		}
		defer func() {
			if bridge != nil {
				bridge.stop()
			}
		}()
	}
	if cfg.Ceiling {
		row.Ceiling = runCeiling(ctx, topo, self, srvAddr, log)
		log(fmt.Sprintf("%-15s raw UDP ceiling %8.2f MB/s of payload", sc.Name, row.Ceiling))
	}
	seed := make([]byte, 32)
	if _, err := rand.Read(seed); err != nil {
		return row, err
	}
	seedHex := hex.EncodeToString(seed)
	for i := range cfg.Runs {
		tools := []string{"stt", "quic-go"}
		if i%2 == 1 {
			tools = []string{"quic-go", "stt"}
		}
		for _, tool := range tools {
			if ctx.Err() != nil {
				return row, ctx.Err()
			}
			switch tool {
			case "stt":
				s := runSTTOnce(ctx, cfg, topo, self, srvAddr, seedHex, sc, i)
				log(fmt.Sprintf("%-15s run %d stt     %8.2f MB/s  dial %6.1f ms  cpu s/GB client %6.2f server %6.2f  syscalls/MB %5.1f %5.1f acks/MB %5.1f  lost %d spurious %d gap drops %d %s",
					sc.Name, i+1, s.Goodput, s.DialMS, s.CPUClient, s.CPUServer, s.SysClient, s.SysServer, s.AcksOut, s.Lost, s.Spurious, s.GapDrops, s.Err))
				row.STT = append(row.STT, s)
			case "quic-go":
				if cfg.Quic == "" {
					continue
				}
				s := runQuicOnce(ctx, cfg, topo, srvAddr, filepath.Join(tmp, "cert.pem"), sc)
				log(fmt.Sprintf("%-15s run %d quic-go %8.2f MB/s  dial %6.1f ms  cpu s/GB client %6.2f server %6.2f  lost %d %s",
					sc.Name, i+1, s.Goodput, s.DialMS, s.CPUClient, s.CPUServer, s.Lost, s.Err))
				row.Quic = append(row.Quic, s)
			}
		}
	}
	if bridge != nil {
		out := bridge.stop()
		row.Bridge = summariseBridge(out)
		// The bridge forwards every run of both tools (and their
		// handshakes and ACKs): its CPU per GB of all their payload.
		var total int64
		for _, x := range append(append([]pathSample{}, row.STT...), row.Quic...) {
			if x.Err == "" {
				total += sc.Bytes
			}
		}
		row.Bridge += fmt.Sprintf("; bridge CPU %.2f s/GB of payload", perGB(bridge.cpu(), total))
		bridge = nil
		log(sc.Name + " bridge: " + row.Bridge)
	}
	return row, nil
}

func runSTTOnce(ctx context.Context, cfg pathConfig, topo *pathemu.Topology, self, srvAddr, seed string, sc pathScenario, run int) pathSample {
	addr := srvAddr + ":4433"
	common := append([]string{"-seed", seed, "-timeout", (cfg.Timeout + 10*time.Second).String()}, sc.SttArgs...)
	srvArgs := append([]string{"stream", "-listen", addr}, common...)
	prof := func(end string) string {
		return filepath.Join(cfg.ProfDir, fmt.Sprintf("%s-%s-run%d-%s.pprof", sc.Name, ccName(cfg.CC), run+1, end))
	}
	if cfg.ProfDir != "" {
		srvArgs = append(srvArgs, "-cpuprofile", prof("server"))
	}
	srv, err := startProc(ctx, topo, pathemu.Server, "listening", self, srvArgs...)
	if err != nil {
		return pathSample{Err: "server: " + err.Error()}
	}
	srvStopped := false
	defer func() {
		if !srvStopped {
			srv.stop()
		}
	}()
	args := append([]string{"stream", "-connect", addr, "-json", "-streams", fmt.Sprint(sc.Streams), "-bytes", fmt.Sprint(sc.Bytes),
		"-timeout", cfg.Timeout.String(), "-cc", cfg.CC}, common...)
	if cfg.ProfDir != "" {
		args = append(args, "-cpuprofile", prof("client"))
	}
	if cfg.TraceDir != "" {
		args = append(args, "-trace-cc", filepath.Join(cfg.TraceDir, fmt.Sprintf("%s-%s-run%d.csv", sc.Name, ccName(cfg.CC), run+1)))
	}
	var r remoteResult
	clientCPU, err := runClient(ctx, cfg, topo, &r, self, args...)
	if err != nil {
		if cfg.TraceDir != "" {
			var ce *clientError
			if errors.As(err, &ce) {
				_ = os.WriteFile(filepath.Join(cfg.TraceDir, fmt.Sprintf("%s-%s-run%d-client-stderr.txt", sc.Name, ccName(cfg.CC), run+1)), []byte(ce.stderr), 0o644)
			}
		}
		// The server's counters and goroutine stacks show where a
		// stalled run hung.
		_ = syscall.Kill(-srv.cmd.Process.Pid, syscall.SIGUSR1)
		time.Sleep(500 * time.Millisecond)
		stacks := srv.dump()
		if cfg.TraceDir != "" {
			name := filepath.Join(cfg.TraceDir, fmt.Sprintf("%s-%s-run%d-server-stacks.txt", sc.Name, ccName(cfg.CC), run+1))
			if werr := os.WriteFile(name, []byte(stacks), 0o644); werr == nil {
				stacks = "written to " + name
			}
		}
		fmt.Fprintf(stdErr, "%s run %d stt failed; server stacks: %s\n", sc.Name, run+1, stacks)
		return pathSample{Err: err.Error()}
	}
	out := srv.stop()
	srvStopped = true
	var ss serverStats
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, remoteServerStats); ok {
			_ = json.Unmarshal([]byte(rest), &ss)
		}
	}
	mb := float64(sc.Bytes) / 1e6
	return pathSample{Goodput: r.GoodputMBps, DialMS: r.DialMS, Lost: r.LostFrames, Spurious: r.SpuriousLosses,
		CPUClient: perGB(clientCPU, sc.Bytes), CPUServer: perGB(srv.cpu(), sc.Bytes),
		SysClient: float64(r.Engine["rx_batches"]+r.Engine["tx_batches"]) / mb,
		SysServer: float64(ss.Engine["rx_batches"]+ss.Engine["tx_batches"]) / mb,
		AcksOut:   float64(ss.Sessions["acks_out"]) / mb, GapDrops: ss.Sessions["drop_stream_gaps"]}
}

// perGB returns CPU time d per GB (10^9 bytes) of a transfer of n bytes.
func perGB(d time.Duration, n int64) float64 {
	if n <= 0 {
		return 0
	}
	return d.Seconds() / (float64(n) / 1e9)
}

func ccName(cc string) string {
	if cc == "" {
		return "default"
	}
	return cc
}

func runQuicOnce(ctx context.Context, cfg pathConfig, topo *pathemu.Topology, srvAddr, cert string, sc pathScenario) pathSample {
	addr := srvAddr + ":4434"
	srv, err := startProc(ctx, topo, pathemu.Server, "listening", cfg.Quic, "-listen", addr, "-certfile", cert, "-timeout", (cfg.Timeout + 10*time.Second).String())
	if err != nil {
		return pathSample{Err: "server: " + err.Error()}
	}
	srvStopped := false
	defer func() {
		if !srvStopped {
			srv.stop()
		}
	}()
	var r struct {
		GoodputMBps float64 `json:"goodput_mbps"`
		DialMS      float64 `json:"dial_ms"`
		PacketsLost uint64  `json:"packets_lost"`
	}
	clientCPU, err := runClient(ctx, cfg, topo, &r, cfg.Quic, "-connect", addr, "-certfile", cert, "-streams", fmt.Sprint(sc.Streams),
		"-bytes", fmt.Sprint(sc.Bytes), "-timeout", cfg.Timeout.String())
	if err != nil {
		return pathSample{Err: err.Error()}
	}
	srv.stop()
	srvStopped = true
	return pathSample{Goodput: r.GoodputMBps, DialMS: r.DialMS, Lost: r.PacketsLost,
		CPUClient: perGB(clientCPU, sc.Bytes), CPUServer: perGB(srv.cpu(), sc.Bytes)}
}

// runClient runs a client in the client namespace, decodes its JSON and
// returns the CPU time (user + system) the process used.
func runClient(ctx context.Context, cfg pathConfig, topo *pathemu.Topology, out any, name string, args ...string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout+20*time.Second)
	defer cancel()
	cmd := topo.Command(ctx, pathemu.Client, name, args...)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	if err := cmd.Run(); err != nil {
		return 0, &clientError{err: err, stderr: se.String()}
	}
	return processCPU(cmd.ProcessState), json.Unmarshal(so.Bytes(), out)
}

// processCPU returns the user + system CPU time of an exited process (0
// if unknown).
func processCPU(ps *os.ProcessState) time.Duration {
	if ps == nil {
		return 0
	}
	return ps.UserTime() + ps.SystemTime()
}

// clientError is a client run that failed, with everything it wrote to
// stderr (its message is the last line).
type clientError struct {
	err    error
	stderr string
}

func (e *clientError) Error() string { return fmt.Sprintf("%v: %s", e.err, lastLine(e.stderr)) }
func (e *clientError) Unwrap() error { return e.err }

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return s
}

// pathProc is a background process (bridge or server) of a scenario.
type pathProc struct {
	cmd    *exec.Cmd
	out    bytes.Buffer
	errOut bytes.Buffer
	done   chan struct{}
	cancel context.CancelFunc
}

// startProc starts name in namespace ns and waits (up to 10 s) for a line
// of its stdout starting with ready.
func startProc(ctx context.Context, topo *pathemu.Topology, ns int, ready, name string, args ...string) (*pathProc, error) {
	ctx, cancel := context.WithCancel(ctx)
	p := &pathProc{cancel: cancel, done: make(chan struct{})}
	p.cmd = topo.Command(ctx, ns, name, args...)
	p.cmd.Stderr = &p.errOut
	pipe, err := p.cmd.StdoutPipe()
	if err != nil {
		cancel()
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		cancel()
		return nil, err
	}
	got := make(chan bool, 1)
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(pipe)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			if !sent && strings.HasPrefix(line, ready) {
				got <- true
				sent = true
				continue
			}
			p.out.WriteString(line + "\n")
		}
		if !sent {
			got <- false
		}
	}()
	select {
	case ok := <-got:
		if ok {
			return p, nil
		}
	case <-time.After(10 * time.Second):
	}
	p.stop()
	return nil, fmt.Errorf("%s did not become ready: %s", filepath.Base(name), lastLine(p.errOut.String()))
}

// stop sends SIGTERM, waits up to 5 s (then kills) and returns what the
// process printed after its ready line.
func (p *pathProc) stop() string {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.cancel()
		<-p.done
	}
	_ = p.cmd.Wait()
	p.cancel()
	return p.out.String()
}

// cpu returns the CPU time (user + system) of the stopped process.
func (p *pathProc) cpu() time.Duration { return processCPU(p.cmd.ProcessState) }

// dump sends SIGQUIT (a Go program prints every goroutine's stack and
// exits), waits up to 5 s and returns the process's stderr.
func (p *pathProc) dump() string {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGQUIT)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.cancel()
		<-p.done
	}
	_ = p.cmd.Wait()
	p.cancel()
	return p.errOut.String()
}

func summariseBridge(out string) string {
	var st pathemu.BridgeStats
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &st); err != nil {
		return "no stats (" + err.Error() + ")"
	}
	d := func(s pathemu.DirStats) string {
		return fmt.Sprintf("%d pkts, random loss %d, queue drops %d, kernel drops %d, oversize %d, pool full %d, max queue %d B, late max %v",
			s.Link.Packets, s.Link.LostRandom, s.Link.LostQueue, s.KernelDrops, s.Oversize, s.PoolFull, s.Link.MaxQueueBytes, s.LateMax.Round(time.Microsecond))
	}
	return "c->s " + d(st.AB) + "; s->c " + d(st.BA)
}

// runCeiling blasts 1472-byte UDP datagrams from the client to the server
// for 2 s and returns the payload rate the sink received (0 on failure).
func runCeiling(ctx context.Context, topo *pathemu.Topology, self, srvAddr string, log func(string)) float64 {
	addr := srvAddr + ":4435"
	sink, err := startProc(ctx, topo, pathemu.Server, "listening", self, "udpblast", "-recv", addr)
	if err != nil {
		log("ceiling: " + err.Error())
		return 0
	}
	cmd := topo.Command(ctx, pathemu.Client, self, "udpblast", "-send", addr, "-duration", "2s")
	if out, err := cmd.CombinedOutput(); err != nil {
		log(fmt.Sprintf("ceiling: sender: %v: %s", err, out))
	}
	time.Sleep(1500 * time.Millisecond)
	var r blastResult
	if err := json.Unmarshal([]byte(strings.TrimSpace(sink.stop())), &r); err != nil {
		log("ceiling: " + err.Error())
		return 0
	}
	return r.PayloadMBs
}
