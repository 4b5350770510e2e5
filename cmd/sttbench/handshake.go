package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"runtime"
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
	// Mode is "machine-cached" (HELLO carries a cached cookie: 2 round
	// trips), "machine-retry" (stateless RETRY first: 3 round trips) or
	// "node" (Dial+Close between real nodes).
	Mode       string `json:"mode"`
	Dialers    int    `json:"dialers,omitempty"`
	Handshakes uint64 `json:"handshakes"`
	Failures   uint64 `json:"failures,omitempty"`
	// Retries counts the RETRY messages the responder sent during the run
	// (about one per handshake on the RETRY path, few on the cached one).
	Retries   uint64        `json:"retries"`
	Elapsed   time.Duration `json:"elapsed_ns"`
	PerSecond float64       `json:"handshakes_per_s"`
	// CPUPerHandshake is process CPU (user+sys) per handshake: both sides'
	// work, as initiator and responder run in this process.
	CPUPerHandshake time.Duration `json:"cpu_per_handshake_ns"`
	AllocsPerHandsh float64       `json:"allocs_per_handshake"`
	CPUUser         time.Duration `json:"cpu_user_ns"`
	CPUSystem       time.Duration `json:"cpu_sys_ns"`
	GCCycles        uint32        `json:"gc_cycles"`
}

// handshakeReport is the output of sttbench handshake.
type handshakeReport struct {
	Runs []handshakeResult `json:"runs"`
	Host hostInfo          `json:"host"`
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
	type job struct {
		name string
		run  func(handshakeConfig) (handshakeResult, error)
	}
	var jobs []job
	if cfg.Mode == "machine" || cfg.Mode == "all" {
		jobs = append(jobs, job{"machine-cached", func(c handshakeConfig) (handshakeResult, error) { return runMachineHandshakes(c, true) }},
			job{"machine-retry", func(c handshakeConfig) (handshakeResult, error) { return runMachineHandshakes(c, false) }})
	}
	if cfg.Mode == "node" || cfg.Mode == "all" {
		jobs = append(jobs, job{"node", runNodeHandshakes})
	}
	for _, j := range jobs {
		if status != nil {
			status(fmt.Sprintf("%s for %v ...", j.name, cfg.Duration))
		}
		r, err := j.run(cfg)
		if err != nil {
			return rep, fmt.Errorf("%s: %w", j.name, err)
		}
		rep.Runs = append(rep.Runs, r)
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

// runMachineHandshakes drives an Initiator and a Responder against each
// other in memory, one handshake after the other, on this goroutine. With
// cached, the initiators share a CookieJar primed by a first handshake, so
// each HELLO carries a valid cookie; otherwise every handshake starts
// without one and follows the responder's RETRY.
func runMachineHandshakes(cfg handshakeConfig, cached bool) (handshakeResult, error) {
	suites, err := suite.ParseName(cfg.Suites)
	if err != nil {
		return handshakeResult{}, err
	}
	seed := make([]byte, 32)
	rand.Read(seed)
	ikey, err := identity.FromSeed(randomSeed())
	if err != nil {
		return handshakeResult{}, err
	}
	rkey, err := identity.FromSeed(randomSeed())
	if err != nil {
		return handshakeResult{}, err
	}
	icfg := &handshake.Config{Seed: seed, Suites: suites, Static: ikey}
	rcfg := &handshake.Config{Seed: seed, Suites: suites, Static: rkey}
	resp, err := handshake.NewResponder(rcfg)
	if err != nil {
		return handshakeResult{}, err
	}
	addrI := netip.MustParseAddrPort("127.0.0.1:40001")
	addrR := netip.MustParseAddrPort("127.0.0.1:40002")
	jar := handshake.NewCookieJar(4)
	one := func(now time.Time) error {
		j := jar
		if !cached {
			j = nil
		}
		in, err := handshake.NewInitiator(icfg, addrR, j)
		if err != nil {
			return err
		}
		msg, err := in.Start(now)
		if err != nil {
			return err
		}
		for range 8 {
			reply, _, err := resp.Handle(addrI, msg, now)
			if err != nil {
				return fmt.Errorf("responder: %w", err)
			}
			out, done, err := in.Handle(reply, now)
			if err != nil {
				return fmt.Errorf("initiator: %w", err)
			}
			if done {
				return nil
			}
			msg = out
		}
		return errHandshakeIncomplete
	}
	mode := "machine-retry"
	if cached {
		mode = "machine-cached"
		if err := one(time.Now()); err != nil { // primes the jar
			return handshakeResult{}, err
		}
	}
	retries0 := resp.Stats().RetriesSent.Load()
	runtime.GC()
	before := takeSnapshot()
	start := time.Now()
	deadline := start.Add(cfg.Duration)
	r := handshakeResult{Mode: mode}
	for r.Handshakes < uint64(cfg.MaxHandshakes) {
		now := time.Now()
		if now.After(deadline) {
			break
		}
		if err := one(now); err != nil {
			return r, err
		}
		r.Handshakes++
		if r.Handshakes%1024 == 0 {
			resp.Expire(now) // as the engine's timer does
		}
	}
	r.Elapsed = time.Since(start)
	r.finish(before, takeSnapshot())
	r.Retries = resp.Stats().RetriesSent.Load() - retries0
	return r, nil
}

// runNodeHandshakes starts one listening node and cfg.Dialers dialing
// nodes (one dialing goroutine each) over loopback; each dialer runs
// Dial+Close until the duration or the handshake budget is spent. The
// listener's sessions are accepted and left to the peers' SESSION_CLOSE.
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

	retries0 := server.Stats().Handshake["handshake_retries_sent"]
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
	r.Retries = server.Stats().Handshake["handshake_retries_sent"] - retries0
	return r, nil
}

func writeHandshakeTable(w io.Writer, rep handshakeReport) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "mode\tdialers\thandshakes\tfailures\tretries\thandshakes/s\tCPU/handshake\tallocs/handshake\tGCs\tCPU user+sys\t")
	for _, r := range rep.Runs {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%.0f\t%v\t%.0f\t%d\t%v\t\n", r.Mode, r.Dialers, r.Handshakes, r.Failures, r.Retries, r.PerSecond,
			r.CPUPerHandshake.Round(time.Microsecond), r.AllocsPerHandsh, r.GCCycles, (r.CPUUser + r.CPUSystem).Round(time.Millisecond))
	}
	tw.Flush()
	fmt.Fprintln(w, "CPU/handshake counts both sides (initiator and responder run in this process).")
	fmt.Fprintf(w, "host: %s/%s, %d CPUs, GOMAXPROCS %d, %s\n", rep.Host.GOOS, rep.Host.GOARCH, rep.Host.NumCPU, rep.Host.GOMAXPROCS, rep.Host.Go)
}

// randomSeed returns 32 random bytes.
func randomSeed() []byte {
	b := make([]byte, 32)
	rand.Read(b)
	return b
}
