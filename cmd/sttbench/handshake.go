package main

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/sttgo/stt"
	"github.com/sttgo/stt/handshake"
	"github.com/sttgo/stt/identity"
	"github.com/sttgo/stt/suite"
)

func init() {
	registerCommand("handshake", "handshakes per second: in-memory state machines or real nodes over loopback", handshakeCommand)
}

// handshakeConfig is the input of sttbench handshake.
type handshakeConfig struct {
	// Mode is "machine" (state machines in memory), "node" (stt nodes over
	// loopback UDP) or "all".
	Mode string
	// Duration bounds each run.
	Duration time.Duration
	// MaxHandshakes bounds each run's handshake count.
	MaxHandshakes int
	// Dialers is the number of concurrent dialing nodes in node mode (each
	// its own node: a node runs one handshake per peer address at a time).
	Dialers int
	// Suites is the suite list the nodes and machines offer.
	Suites string
}

// handshakeResult is one run.
type handshakeResult struct {
	// Mode is "machine-full" (first contact to a responder that is not
	// loaded: RESPONSE at once), "machine-resumed" (HELLO with a ticket),
	// "machine-retry" (CookieThreshold negative: a RETRY first, as under
	// load), or "node" (Dial+Close between real nodes over loopback).
	Mode       string `json:"mode"`
	Dialers    int    `json:"dialers,omitempty"`
	Handshakes uint64 `json:"handshakes"`
	Failures   uint64 `json:"failures,omitempty"`
	// Retries counts the RETRY messages the responder sent during the run;
	// Resumed, the handshakes it resumed with a ticket.
	Retries   uint64        `json:"retries"`
	Resumed   uint64        `json:"resumed"`
	Elapsed   time.Duration `json:"elapsed_ns"`
	PerSecond float64       `json:"handshakes_per_s"`
	// RTTsToKeys (machine modes) is the mean number of round trips from
	// the first HELLO to the initiator's keys (when it may send its first
	// byte), counted from the messages exchanged.
	RTTsToKeys float64 `json:"rtts_to_keys,omitempty"`
	// Machine modes: both sides run in one goroutine, so PerSecond is per
	// core. X25519Ops is per handshake, both sides; Bound = 1 / (X25519Ops
	// × the measured cost of one operation) and OfBound = PerSecond /
	// Bound. Initiator and Responder give the same per side.
	X25519Ops float64     `json:"x25519_ops_per_handshake,omitempty"`
	Bound     float64     `json:"bound_per_s,omitempty"`
	OfBound   float64     `json:"of_bound,omitempty"`
	Initiator *sideResult `json:"initiator,omitempty"`
	Responder *sideResult `json:"responder,omitempty"`
	// CPUPerHandshake is process CPU (user+sys) per handshake (node mode:
	// both sides' work, as initiator and responder run in this process);
	// in machine modes it is the wall time per handshake of the one
	// goroutine running both sides.
	CPUPerHandshake time.Duration `json:"cpu_per_handshake_ns"`
	AllocsPerHandsh float64       `json:"allocs_per_handshake"`
	CPUUser         time.Duration `json:"cpu_user_ns,omitempty"`
	CPUSystem       time.Duration `json:"cpu_sys_ns,omitempty"`
	GCCycles        uint32        `json:"gc_cycles,omitempty"`
}

// sideResult is one side's share of a machine run.
type sideResult struct {
	// Busy is the time spent in this side's calls; PerSecond =
	// handshakes / Busy (per core).
	Busy      time.Duration `json:"busy_ns"`
	PerSecond float64       `json:"handshakes_per_s"`
	// X25519Ops per handshake, counted (handshake.Stats.X25519Ops for the
	// responder, InitX25519Ops for the initiator); Counted says so (false
	// would mark a count taken from the protocol instead).
	X25519Ops float64 `json:"x25519_ops_per_handshake"`
	Counted   bool    `json:"x25519_ops_counted"`
	Bound     float64 `json:"bound_per_s"`
	OfBound   float64 `json:"of_bound"`
	// Allocs is the heap allocations per handshake in this side's calls
	// (runtime.MemStats.Mallocs deltas, in a separate counting pass).
	Allocs float64 `json:"allocs_per_handshake"`
}

// x25519Cost is the cost of one X25519 operation, timed in the same run
// in chunks interleaved with the machine modes' chunks (the median
// chunk's).
type x25519Cost struct {
	Ops   uint64        `json:"ops"`
	PerOp time.Duration `json:"per_op_ns"`
}

// rttResult is the round trips of one first dial between real nodes over
// loopback, counted from the responder's handshake counters: each HELLO it
// receives is answered once (RETRY or RESPONSE), and Dial returns when the
// keys are ready, so RTTs = HELLOs received for the dial.
type rttResult struct {
	Mode    string        `json:"mode"`
	Dials   int           `json:"dials"`
	Hellos  uint64        `json:"hellos"`
	Retries uint64        `json:"retries"`
	Resumed uint64        `json:"resumed"`
	RTTs    float64       `json:"rtts_to_keys"`
	Latency time.Duration `json:"median_dial_ns"`
}

// handshakeReport is the output of sttbench handshake.
type handshakeReport struct {
	X25519 *x25519Cost       `json:"x25519,omitempty"`
	Runs   []handshakeResult `json:"runs"`
	// ResumedOverFull is the machine-resumed rate over the machine-full
	// rate.
	ResumedOverFull float64     `json:"resumed_over_full,omitempty"`
	RTT             []rttResult `json:"rtt,omitempty"`
	Host            hostInfo    `json:"host"`
}

func parseHandshakeFlags(args []string, stderr io.Writer) (handshakeConfig, bool, error) {
	fs := flag.NewFlagSet("handshake", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := handshakeConfig{}
	fs.StringVar(&cfg.Mode, "mode", "all", "machine | node | all")
	fs.DurationVar(&cfg.Duration, "duration", 3*time.Second, "time per run")
	fs.IntVar(&cfg.MaxHandshakes, "max", 10_000_000, "handshakes per run at most")
	fs.IntVar(&cfg.Dialers, "dialers", 4, "node mode: concurrent dialing nodes (1..16)")
	fs.StringVar(&cfg.Suites, "suite", "aead", "suites offered (suite.ParseName)")
	jsonOut := fs.Bool("json", false, "print one JSON document instead of a table")
	profileFlags(fs)
	if err := fs.Parse(args); err != nil {
		return cfg, false, usageError{err}
	}
	if fs.NArg() > 0 {
		return cfg, false, usageError{fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	bad := func(f string, a ...any) error { return usageError{fmt.Errorf(f, a...)} }
	switch cfg.Mode {
	case "machine", "node", "all":
	default:
		return cfg, false, bad("-mode %q: want machine, node or all", cfg.Mode)
	}
	if cfg.Duration <= 0 || cfg.Duration > time.Hour {
		return cfg, false, bad("-duration %v: want (0, 1h]", cfg.Duration)
	}
	if cfg.MaxHandshakes < 1 {
		return cfg, false, bad("-max %d: want >= 1", cfg.MaxHandshakes)
	}
	// The responder holds DefaultMaxHalfOpenPerPrefix half-open handshakes
	// per source prefix (more evict the prefix's oldest), and every dialer
	// is on 127.0.0.1.
	if cfg.Dialers < 1 || cfg.Dialers > handshake.DefaultMaxHalfOpenPerPrefix {
		return cfg, false, bad("-dialers %d: want 1..%d", cfg.Dialers, handshake.DefaultMaxHalfOpenPerPrefix)
	}
	if _, err := suite.ParseName(cfg.Suites); err != nil {
		return cfg, false, bad("-suite: %v", err)
	}
	return cfg, *jsonOut, nil
}

func handshakeCommand(args []string, stdout io.Writer) error {
	cfg, jsonOut, err := parseHandshakeFlags(args, stdErr)
	if err != nil {
		return err
	}
	return runReport(stdout, jsonOut, func(status func(string)) (handshakeReport, error) { return runHandshakes(cfg, status) }, writeHandshakeTable)
}

// runHandshakes runs cfg.Mode's benchmarks in order.
func runHandshakes(cfg handshakeConfig, status func(string)) (handshakeReport, error) {
	rep := handshakeReport{Host: thisHost()}
	if cfg.Mode == "machine" || cfg.Mode == "all" {
		if status != nil {
			status(fmt.Sprintf("machine modes, interleaved, for %v ...", 3*cfg.Duration))
		}
		runs, cost, err := runMachineHandshakes(cfg)
		if err != nil {
			return rep, err
		}
		rep.Runs, rep.X25519 = append(rep.Runs, runs...), &cost
		if runs[0].PerSecond > 0 {
			rep.ResumedOverFull = runs[1].PerSecond / runs[0].PerSecond
		}
	}
	if cfg.Mode == "node" || cfg.Mode == "all" {
		if status != nil {
			status(fmt.Sprintf("node for %v ...", cfg.Duration))
		}
		r, err := runNodeHandshakes(cfg)
		if err != nil {
			return rep, fmt.Errorf("node: %w", err)
		}
		rep.Runs = append(rep.Runs, r)
		if status != nil {
			status("node round trips ...")
		}
		if rep.RTT, err = runNodeRTTs(cfg); err != nil {
			return rep, fmt.Errorf("node round trips: %w", err)
		}
	}
	return rep, nil
}

// finish fills the derived figures of r from the snapshots.
func (r *handshakeResult) finish(before, after snapshot) {
	r.CPUUser, r.CPUSystem = after.user-before.user, after.sys-before.sys
	r.GCCycles = after.gc - before.gc
	if r.Handshakes > 0 {
		r.CPUPerHandshake = (r.CPUUser + r.CPUSystem) / time.Duration(r.Handshakes)
		r.AllocsPerHandsh = float64(after.mallocs-before.mallocs) / float64(r.Handshakes)
	}
	if s := r.Elapsed.Seconds(); s > 0 {
		r.PerSecond = float64(r.Handshakes) / s
	}
}

// errHandshakeIncomplete reports an in-memory handshake that did not end
// within its message budget.
var errHandshakeIncomplete = errors.New("sttbench: in-memory handshake did not complete")

// Machine modes, in report order.
const (
	machineFull = iota
	machineResumed
	machineRetry
	numMachineModes
)

var machineModeNames = [numMachineModes]string{"machine-full", "machine-resumed", "machine-retry"}

// machinePair is one initiator configuration and one responder, driven
// against each other in memory on one goroutine.
type machinePair struct {
	icfg         *handshake.Config
	resp         *handshake.Responder
	rstats       *handshake.Stats
	istats       *handshake.Stats     // the initiators' (shared: one per mode)
	jar          *handshake.CookieJar // nil: none
	addrI, addrR netip.AddrPort

	// Accumulated by one.
	handshakes, resumed, rtts uint64
	busyI, busyR              time.Duration // when timing
	allocI, allocR            uint64        // when counting
	counting                  bool
}

// mark returns the time (timing) or the malloc count (counting).
func (m *machinePair) mark() (time.Time, uint64) {
	if m.counting {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return time.Time{}, ms.Mallocs
	}
	return time.Now(), 0
}

func (m *machinePair) addI(t time.Time, n uint64) {
	if m.counting {
		_, x := m.mark()
		m.allocI += x - n
		return
	}
	m.busyI += time.Since(t)
}

func (m *machinePair) addR(t time.Time, n uint64) {
	if m.counting {
		_, x := m.mark()
		m.allocR += x - n
		return
	}
	m.busyR += time.Since(t)
}

// one runs a handshake to the end: HELLO (and RETRY) until RESPONSE, the
// AUTH_PROOF, and the FINAL (which carries the next ticket).
func (m *machinePair) one(now time.Time) error {
	t, n := m.mark()
	in, err := handshake.NewInitiator(m.icfg, m.addrR, m.jar)
	if err != nil {
		return err
	}
	msg, err := in.Start(now)
	m.addI(t, n)
	if err != nil {
		return err
	}
	for range 8 {
		t, n = m.mark()
		reply, est, err := m.resp.Handle(m.addrI, msg, now)
		m.addR(t, n)
		if err != nil {
			return fmt.Errorf("responder: %w", err)
		}
		if !in.Done() {
			m.rtts++
		}
		t, n = m.mark()
		out, done, err := in.Handle(reply, now)
		m.addI(t, n)
		if err != nil {
			return fmt.Errorf("initiator: %w", err)
		}
		if est != nil {
			if !in.Confirmed() {
				return fmt.Errorf("%w: FINAL did not confirm", errHandshakeIncomplete)
			}
			m.handshakes++
			if est.Resumed {
				m.resumed++
			}
			return nil
		}
		if out == nil {
			return fmt.Errorf("%w: initiator has nothing to send (done %v)", errHandshakeIncomplete, done)
		}
		msg = out
	}
	return errHandshakeIncomplete
}

// newMachinePair builds the pair of machine mode mode with fresh static
// keys and a fresh seed. The responder's work budget is out of reach (the
// one source would put it under load), so the full and resumed modes
// measure a responder that is not loaded; machine-retry sets
// CookieThreshold negative (every HELLO proves its address first) and
// gives the initiators no cookie jar.
func newMachinePair(suites []uint8, mode int) (*machinePair, error) {
	seed := randomSeed()
	ikey, err := identity.FromSeed(randomSeed())
	if err != nil {
		return nil, err
	}
	rkey, err := identity.FromSeed(randomSeed())
	if err != nil {
		return nil, err
	}
	m := &machinePair{rstats: new(handshake.Stats),
		addrI: netip.MustParseAddrPort("127.0.0.1:40001"), addrR: netip.MustParseAddrPort("127.0.0.1:40002")}
	m.istats = new(handshake.Stats)
	m.icfg = &handshake.Config{Seed: seed, Suites: suites, Static: ikey, Stats: m.istats}
	rcfg := &handshake.Config{Seed: seed, Suites: suites, Static: rkey, Stats: m.rstats,
		Budget: handshake.NewWorkBudget(handshake.BudgetConfig{LoadRate: 1e12, LoadBurst: 1 << 30})}
	switch mode {
	case machineResumed:
		m.icfg.Tickets = handshake.NewTicketJar(4)
	case machineRetry:
		rcfg.CookieThreshold = -1
	}
	if m.resp, err = handshake.NewResponder(rcfg); err != nil {
		return nil, err
	}
	return m, nil
}

// machineChunk is how many handshakes of one mode run before the next
// mode's turn (and x25519Chunk how many X25519 operations are timed per
// round): the modes and the operation cost are measured interleaved, so
// that other load on the machine affects them alike.
const (
	machineChunk = 32
	x25519Chunk  = 64
	allocRuns    = 64
)

// runMachineHandshakes measures the machine modes, interleaved in rounds
// (each round runs a chunk of every mode and times a chunk of X25519
// operations), until each mode ran cfg.Duration or cfg.MaxHandshakes
// handshakes; then it counts allocations per side in a separate pass.
func runMachineHandshakes(cfg handshakeConfig) ([]handshakeResult, x25519Cost, error) {
	var cost x25519Cost
	suites, err := suite.ParseName(cfg.Suites)
	if err != nil {
		return nil, cost, err
	}
	var pairs [numMachineModes]*machinePair
	var elapsed [numMachineModes]time.Duration
	for mode := range pairs {
		if pairs[mode], err = newMachinePair(suites, mode); err != nil {
			return nil, cost, err
		}
		// Warm up (the resumed mode gets its first ticket).
		if err := pairs[mode].one(time.Now()); err != nil {
			return nil, cost, fmt.Errorf("%s: %w", machineModeNames[mode], err)
		}
		*pairs[mode] = machinePair{icfg: pairs[mode].icfg, resp: pairs[mode].resp, rstats: pairs[mode].rstats,
			istats: pairs[mode].istats, jar: pairs[mode].jar, addrI: pairs[mode].addrI, addrR: pairs[mode].addrR}
	}
	var retries0, resumed0, ops0, iops0 [numMachineModes]uint64
	for mode, m := range pairs {
		retries0[mode], resumed0[mode], ops0[mode] = m.rstats.RetriesSent.Load(), m.rstats.Resumed.Load(), m.rstats.X25519Ops.Load()
		iops0[mode] = m.istats.InitX25519Ops.Load()
	}
	x := newX25519Timer()
	var xChunks []time.Duration
	runtime.GC()
	for {
		busy := false
		for mode, m := range pairs {
			if elapsed[mode] >= cfg.Duration || m.handshakes >= uint64(cfg.MaxHandshakes) {
				continue
			}
			busy = true
			k := min(machineChunk, uint64(cfg.MaxHandshakes)-m.handshakes)
			start := time.Now()
			for range k {
				if err := m.one(time.Now()); err != nil {
					return nil, cost, fmt.Errorf("%s: %w", machineModeNames[mode], err)
				}
			}
			elapsed[mode] += time.Since(start)
			if m.handshakes%1024 < machineChunk {
				m.resp.Expire(time.Now()) // as the engine's timer does
			}
		}
		if !busy {
			break
		}
		xChunks = append(xChunks, x.time(x25519Chunk))
		cost.Ops += x25519Chunk
	}
	// The median chunk: a chunk that was preempted (the machine is
	// shared) would make one operation look dearer than it is, and the
	// ratios to the bound higher.
	slices.Sort(xChunks)
	cost.PerOp = xChunks[len(xChunks)/2] / x25519Chunk

	runs := make([]handshakeResult, numMachineModes)
	for mode, m := range pairs {
		h := float64(m.handshakes)
		r := handshakeResult{Mode: machineModeNames[mode], Handshakes: m.handshakes, Elapsed: elapsed[mode],
			Retries: m.rstats.RetriesSent.Load() - retries0[mode], Resumed: m.rstats.Resumed.Load() - resumed0[mode],
			RTTsToKeys: float64(m.rtts) / h}
		r.PerSecond = h / elapsed[mode].Seconds()
		r.CPUPerHandshake = elapsed[mode] / time.Duration(m.handshakes)
		respOps := float64(m.rstats.X25519Ops.Load()-ops0[mode]) / h
		initOps := float64(m.istats.InitX25519Ops.Load()-iops0[mode]) / h
		r.X25519Ops = respOps + initOps
		r.Bound = 1 / (r.X25519Ops * cost.PerOp.Seconds())
		r.OfBound = r.PerSecond / r.Bound
		r.Initiator = newSide(m.busyI, m.handshakes, initOps, true, cost.PerOp)
		r.Responder = newSide(m.busyR, m.handshakes, respOps, true, cost.PerOp)
		runs[mode] = r
	}

	// Allocations per side: a separate pass, reading MemStats around
	// every call.
	for mode, m := range pairs {
		m.counting, m.allocI, m.allocR = true, 0, 0
		for range allocRuns {
			if err := m.one(time.Now()); err != nil {
				return nil, cost, fmt.Errorf("%s: %w", machineModeNames[mode], err)
			}
		}
		r := &runs[mode]
		r.Initiator.Allocs = float64(m.allocI) / allocRuns
		r.Responder.Allocs = float64(m.allocR) / allocRuns
		r.AllocsPerHandsh = r.Initiator.Allocs + r.Responder.Allocs
	}
	return runs, cost, nil
}

func newSide(busy time.Duration, handshakes uint64, ops float64, counted bool, perOp time.Duration) *sideResult {
	s := &sideResult{Busy: busy, X25519Ops: ops, Counted: counted}
	if busy > 0 {
		s.PerSecond = float64(handshakes) / busy.Seconds()
	}
	if ops > 0 && perOp > 0 {
		s.Bound = 1 / (ops * perOp.Seconds())
		s.OfBound = s.PerSecond / s.Bound
	}
	return s
}

// x25519Timer times one X25519 operation as the handshake does it
// (crypto/ecdh: the peer's public key parsed, then one scalar
// multiplication with a private key built once) on fresh-looking inputs:
// each result is the next call's point, as a DH with a peer's key would
// be. (golang.org/x/crypto/curve25519.X25519 would time two scalar
// multiplications: it builds a new private key, and so its public key, on
// every call.)
type x25519Timer struct {
	priv  *ecdh.PrivateKey
	point []byte
}

func newX25519Timer() *x25519Timer {
	priv, err := ecdh.X25519().NewPrivateKey(randomSeed())
	if err != nil {
		panic(err)
	}
	other, err := ecdh.X25519().NewPrivateKey(randomSeed())
	if err != nil {
		panic(err)
	}
	return &x25519Timer{priv: priv, point: other.PublicKey().Bytes()}
}

// time returns how long n X25519 operations took.
func (t *x25519Timer) time(n int) time.Duration {
	start := time.Now()
	for range n {
		pub, err := ecdh.X25519().NewPublicKey(t.point)
		if err != nil {
			continue
		}
		if out, err := t.priv.ECDH(pub); err == nil {
			t.point = out
		}
	}
	return time.Since(start)
}

// runNodeHandshakes starts one listening node and cfg.Dialers dialing
// nodes (one dialing goroutine each) over loopback; each dialer runs
// Dial+Close until the duration or the handshake budget is spent. The
// listener's sessions are accepted and left to the peers' SESSION_CLOSE.
// After its warm-up dial each dialer holds a ticket, so the timed dials
// resume (Resumed counts those the listener resumed).
func runNodeHandshakes(cfg handshakeConfig) (handshakeResult, error) {
	seed := make([]byte, 32)
	rand.Read(seed)
	nodeCfg := stt.Config{Seed: seed, Suites: cfg.Suites, Logger: quietLogger()}
	server, err := stt.Listen(nodeCfg)
	if err != nil {
		return handshakeResult{}, err
	}
	defer server.Close()
	clients := make([]*stt.Node, 0, cfg.Dialers)
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()
	for range cfg.Dialers {
		c, err := stt.Listen(nodeCfg)
		if err != nil {
			return handshakeResult{}, err
		}
		clients = append(clients, c)
	}

	ctx, cancel := context.WithTimeout(context.Background(), cfg.Duration)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			if _, err := server.Accept(ctx); err != nil {
				return
			}
		}
	}()

	// Warm-up: one handshake per client fetches its cookie and checks
	// that handshakes work at all before timing.
	for _, c := range clients {
		wctx, wcancel := context.WithTimeout(context.Background(), 15*time.Second)
		s, err := c.DialAddrPort(wctx, server.Addr())
		wcancel()
		if err != nil {
			cancel()
			wg.Wait()
			return handshakeResult{}, fmt.Errorf("warm-up dial: %w", err)
		}
		s.Close(stt.CodeNoError, "")
	}

	st0 := server.Stats().Handshake
	var done, failed atomic.Uint64
	budget := int64(cfg.MaxHandshakes)
	var left atomic.Int64
	left.Store(budget)
	runtime.GC()
	before := takeSnapshot()
	start := time.Now()
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && left.Add(-1) >= 0 {
				s, err := c.DialAddrPort(ctx, server.Addr())
				if err != nil {
					if ctx.Err() == nil {
						failed.Add(1)
					}
					continue
				}
				done.Add(1)
				s.Close(stt.CodeNoError, "")
			}
		}()
	}
	// Wait until the budget's handshakes ended or the duration passed,
	// then stop the dialers.
	for ctx.Err() == nil && done.Load()+failed.Load() < uint64(budget) {
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
	elapsed := time.Since(start)
	cancel()
	wg.Wait()
	r := handshakeResult{Mode: "node", Dialers: cfg.Dialers, Handshakes: done.Load(), Failures: failed.Load(), Elapsed: elapsed}
	r.finish(before, takeSnapshot())
	st1 := server.Stats().Handshake
	r.Retries = st1["handshake_retries_sent"] - st0["handshake_retries_sent"]
	r.Resumed = st1["handshake_resumed"] - st0["handshake_resumed"]
	return r, nil
}

// rttDials is how many dials each round-trip mode times.
const rttDials = 5

// runNodeRTTs dials real nodes over loopback once per sample and counts
// the round trips to the keys from the listener's counters (see
// rttResult): a first contact to a listener that is not loaded, one to a
// listener that always asks for a cookie first (CookieThreshold -1, as
// under load), and a resumed dial (the dialer holds a ticket from its
// previous session with the listener). The first two use a new dialing
// node per sample (a node caches cookies and tickets per peer).
func runNodeRTTs(cfg handshakeConfig) ([]rttResult, error) {
	seed := randomSeed()
	var out []rttResult
	for _, mode := range []string{"first-contact", "loaded", "resumed"} {
		scfg := stt.Config{Seed: seed, Suites: cfg.Suites, Logger: quietLogger()}
		if mode == "loaded" {
			scfg.CookieThreshold = -1
		}
		r, err := nodeRTT(mode, scfg, stt.Config{Seed: seed, Suites: cfg.Suites, Logger: quietLogger()})
		if err != nil {
			return out, fmt.Errorf("%s: %w", mode, err)
		}
		out = append(out, r)
	}
	return out, nil
}

func nodeRTT(mode string, scfg, dcfg stt.Config) (rttResult, error) {
	r := rttResult{Mode: mode, Dials: rttDials}
	server, err := stt.Listen(scfg)
	if err != nil {
		return r, err
	}
	defer server.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	go func() {
		for {
			if _, err := server.Accept(ctx); err != nil {
				return
			}
		}
	}()
	var dialer *stt.Node
	defer func() {
		if dialer != nil {
			dialer.Close()
		}
	}()
	newDialer := func() error {
		if dialer != nil {
			dialer.Close()
		}
		dialer, err = stt.Listen(dcfg)
		return err
	}
	dial := func() (time.Duration, error) {
		start := time.Now()
		s, err := dialer.DialAddrPort(ctx, server.Addr())
		d := time.Since(start)
		if err != nil {
			return d, err
		}
		// Wait for the FINAL's ticket before closing, so that the next
		// dial can resume.
		stored := func() uint64 { return dialer.Stats().Handshake["handshake_init_tickets_stored"] }
		want := stored()
		if mode == "resumed" {
			for i := 0; i < 200 && stored() == want; i++ {
				time.Sleep(time.Millisecond)
			}
		}
		s.Close(stt.CodeNoError, "")
		return d, nil
	}
	if mode == "resumed" {
		if err := newDialer(); err != nil {
			return r, err
		}
		before := dialer.Stats().Handshake["handshake_init_tickets_stored"]
		if _, err := dial(); err != nil { // the full handshake that gets the ticket
			return r, err
		}
		for i := 0; i < 200 && dialer.Stats().Handshake["handshake_init_tickets_stored"] == before; i++ {
			time.Sleep(time.Millisecond)
		}
	}
	st0 := server.Stats().Handshake
	lat := make([]time.Duration, 0, rttDials)
	for range rttDials {
		if mode != "resumed" {
			if err := newDialer(); err != nil {
				return r, err
			}
		}
		d, err := dial()
		if err != nil {
			return r, err
		}
		lat = append(lat, d)
	}
	st1 := server.Stats().Handshake
	r.Hellos = st1["handshake_hellos_in"] - st0["handshake_hellos_in"]
	r.Retries = st1["handshake_retries_sent"] - st0["handshake_retries_sent"]
	r.Resumed = st1["handshake_resumed"] - st0["handshake_resumed"]
	r.RTTs = float64(r.Hellos) / rttDials
	slices.Sort(lat)
	r.Latency = lat[len(lat)/2]
	return r, nil
}

func writeHandshakeTable(w io.Writer, rep handshakeReport) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "mode\tdialers\thandshakes\tfailures\tretries\tresumed\tRTTs\thandshakes/s\tCPU/handshake\tallocs/handshake\tX25519/handshake\tof bound\t")
	for _, r := range rep.Runs {
		rtts, ops, of := "-", "-", "-"
		if r.Initiator != nil {
			rtts, ops, of = fmt.Sprintf("%.2f", r.RTTsToKeys), fmt.Sprintf("%.1f", r.X25519Ops), fmt.Sprintf("%.2f", r.OfBound)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%s\t%.0f\t%v\t%.0f\t%s\t%s\t\n", r.Mode, r.Dialers, r.Handshakes, r.Failures, r.Retries, r.Resumed,
			rtts, r.PerSecond, r.CPUPerHandshake.Round(time.Microsecond), r.AllocsPerHandsh, ops, of)
	}
	tw.Flush()
	if rep.X25519 != nil {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "mode\tside\thandshakes/s\tX25519/handshake\tbound/s\tof bound\tallocs/handshake\t")
		for _, r := range rep.Runs {
			for _, s := range []struct {
				name string
				s    *sideResult
			}{{"initiator", r.Initiator}, {"responder", r.Responder}} {
				if s.s == nil {
					continue
				}
				ops := fmt.Sprintf("%.1f", s.s.X25519Ops)
				if !s.s.Counted {
					ops += "*"
				}
				fmt.Fprintf(tw, "%s\t%s\t%.0f\t%s\t%.0f\t%.2f\t%.1f\t\n", r.Mode, s.name, s.s.PerSecond, ops, s.s.Bound, s.s.OfBound, s.s.Allocs)
			}
		}
		tw.Flush()
		fmt.Fprintf(w, "X25519: %v per operation (%d timed, interleaved with the machine modes)\n", rep.X25519.PerOp.Round(10*time.Nanosecond), rep.X25519.Ops)
		fmt.Fprintf(w, "resumed/full: %.2f (machine handshakes/s)\n", rep.ResumedOverFull)
		fmt.Fprintln(w, "machine modes run both sides in one goroutine (per core); bound = 1 / (X25519 operations per handshake x cost of one);")
	}
	if len(rep.RTT) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "first dial\tdials\tHELLOs\tRETRYs\tresumed\tRTTs to keys\tmedian dial\t")
		for _, r := range rep.RTT {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%.2f\t%v\t\n", r.Mode, r.Dials, r.Hellos, r.Retries, r.Resumed, r.RTTs, r.Latency.Round(time.Microsecond))
		}
		tw.Flush()
		fmt.Fprintln(w, "RTTs to keys: HELLOs the listener received per dial (each answered once; Dial returns with the keys); loopback adds no delay.")
	}
	if len(rep.Runs) > 0 && rep.Runs[len(rep.Runs)-1].Mode == "node" {
		fmt.Fprintln(w, "node: CPU/handshake counts both sides (initiator and responder run in this process).")
	}
	fmt.Fprintf(w, "host: %s/%s, %d CPUs, GOMAXPROCS %d, %s\n", rep.Host.GOOS, rep.Host.GOARCH, rep.Host.NumCPU, rep.Host.GOMAXPROCS, rep.Host.Go)
}

// randomSeed returns 32 random bytes.
func randomSeed() []byte {
	b := make([]byte, 32)
	rand.Read(b)
	return b
}
