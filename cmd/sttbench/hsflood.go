package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/sttgo/stt"
	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/handshake"
)

func init() {
	registerCommand("hsflood", "legitimate Dials over loopback while a node's handshakes are flooded (issue 13's attacks)", hsfloodCommand)
}

// The attacks, as issue 13 measured them. Addresses are in 127/8 (every
// address of it is local on Linux): the node listens on 127.0.0.1, the
// attackers sit in 127.66.0.0/24 (or 127.77.0.1 for the wrong-seed node),
// and legitimate dialers in 127.1.0.0/24 (another prefix), except for
// wrongseed, where they share 127.77.0.1 with the wrong-seed node.
const (
	floodNone       = "none"       // no attack: the baseline
	floodHalfOpen   = "halfopen"   // 160 addresses answering cookies, HELLOs at -rate (5,448/s)
	floodBogusProof = "bogusproof" // one address, HELLO + bogus AUTH_PROOF, open loop at -rate (14,600/s) and closed loop
	floodWrongSeed  = "wrongseed"  // a node with another seed dialing in a loop from the honest dialers' IP
)

var floodAttacks = []string{floodNone, floodHalfOpen, floodBogusProof, floodWrongSeed}

// hsfloodConfig is the input of sttbench hsflood.
type hsfloodConfig struct {
	Attacks     []string
	Dials       int           // legitimate dials per attack
	Warmup      time.Duration // attack time before the first dial
	DialTimeout time.Duration
	// Rate overrides the attack's HELLO rate (0: the issue's).
	Rate int
}

// hsfloodResult is one attack's run.
type hsfloodResult struct {
	Attack string `json:"attack"`
	// HellosPerSec is the attacker's HELLO rate over the run (for
	// wrongseed: its dial attempts per second).
	HellosPerSec float64 `json:"attack_per_s"`
	Dials        int     `json:"dials"`
	DialsOK      int     `json:"dials_ok"`
	// DialMedian, DialMin and DialMax are over the dials that succeeded.
	DialMedian time.Duration `json:"dial_median_ns"`
	DialMin    time.Duration `json:"dial_min_ns"`
	DialMax    time.Duration `json:"dial_max_ns"`
	// X25519PerSec is the node's responder X25519 operations per second
	// (its handshake_x25519_ops counter: three per full RESPONSE, one per
	// AUTH_PROOF that opens): its handshake CPU, at about 60 µs each.
	X25519PerSec float64 `json:"x25519_per_s"`
	// FirstContacts and Retries are the RESPONSEs the node sent to HELLOs
	// without a cookie (1-RTT first contacts, while it is not loaded) and
	// the RETRYs it sent (while it is loaded) since it started, the
	// warm-up and the legitimate dials included: a flood drives the node
	// into the loaded state.
	FirstContacts uint64 `json:"first_contacts"`
	Retries       uint64 `json:"retries"`
	// FloodIn and FloodOut are the bytes (UDP payloads) the node received
	// from the flooding addresses and sent to them over the whole attack
	// (halfopen and bogusproof); Amplification = FloodOut / FloodIn, which
	// must stay at most 1. The flooders' sockets stand for spoofed
	// sources: they complete no handshake.
	FloodIn       uint64  `json:"flood_bytes_in,omitempty"`
	FloodOut      uint64  `json:"flood_bytes_out,omitempty"`
	Amplification float64 `json:"amplification,omitempty"`
	// Refused, Evicted: the node's refusals (table or prefix full, work
	// budget) and half-open evictions (replacements by a newer HELLO of
	// the same source included) during the run.
	Refused uint64 `json:"refused"`
	Evicted uint64 `json:"evicted"`
	// CPU is the whole process's (node, attacker and dialers) user+sys
	// per second of the run.
	CPU     float64       `json:"cpu_per_s"`
	HeapMiB float64       `json:"heap_mib"`
	Elapsed time.Duration `json:"elapsed_ns"`
	Error   string        `json:"error,omitempty"`
}

type hsfloodReport struct {
	Runs []hsfloodResult `json:"runs"`
	Host hostInfo        `json:"host"`
}

func parseHsfloodFlags(args []string, stderr io.Writer) (hsfloodConfig, bool, error) {
	fs := flag.NewFlagSet("hsflood", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := hsfloodConfig{}
	attack := fs.String("attack", "all", "none | halfopen | bogusproof | wrongseed | all")
	fs.IntVar(&cfg.Dials, "dials", 10, "legitimate dials per attack (1..100)")
	fs.DurationVar(&cfg.Warmup, "warmup", time.Second, "attack time before the first dial")
	fs.DurationVar(&cfg.DialTimeout, "dial-timeout", 5*time.Second, "limit of each legitimate dial")
	fs.IntVar(&cfg.Rate, "rate", 0, "HELLOs per second (0: 5,448 for halfopen, 14,600 for bogusproof)")
	jsonOut := fs.Bool("json", false, "print one JSON document instead of a table")
	profileFlags(fs)
	if err := fs.Parse(args); err != nil {
		return cfg, false, usageError{err}
	}
	bad := func(f string, a ...any) error { return usageError{fmt.Errorf(f, a...)} }
	if fs.NArg() > 0 {
		return cfg, false, bad("unexpected arguments %q", fs.Args())
	}
	switch {
	case *attack == "all":
		cfg.Attacks = floodAttacks
	case slices.Contains(floodAttacks, *attack):
		cfg.Attacks = []string{*attack}
	default:
		return cfg, false, bad("-attack %q: want none, halfopen, bogusproof, wrongseed or all", *attack)
	}
	if cfg.Dials < 1 || cfg.Dials > 100 {
		return cfg, false, bad("-dials %d: want 1..100", cfg.Dials)
	}
	if cfg.Warmup < 0 || cfg.Warmup > time.Minute || cfg.DialTimeout <= 0 || cfg.DialTimeout > time.Minute {
		return cfg, false, bad("-warmup %v, -dial-timeout %v: want [0, 1m] and (0, 1m]", cfg.Warmup, cfg.DialTimeout)
	}
	if cfg.Rate < 0 || cfg.Rate > 200_000 {
		return cfg, false, bad("-rate %d: want 0..200000", cfg.Rate)
	}
	return cfg, *jsonOut, nil
}

func hsfloodCommand(args []string, stdout io.Writer) error {
	cfg, jsonOut, err := parseHsfloodFlags(args, stdErr)
	if err != nil {
		return err
	}
	return runReport(stdout, jsonOut, func(status func(string)) (hsfloodReport, error) {
		rep := hsfloodReport{Host: thisHost()}
		for _, a := range cfg.Attacks {
			if status != nil {
				status(a + " ...")
			}
			r, err := runHsflood(cfg, a)
			if err != nil {
				return rep, fmt.Errorf("%s: %w", a, err)
			}
			rep.Runs = append(rep.Runs, r)
		}
		return rep, nil
	}, writeHsfloodTable)
}

func writeHsfloodTable(w io.Writer, rep hsfloodReport) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "attack\tattack/s\tdials ok\tmedian\tmin\tmax\tX25519/s\tfirst contacts\tRETRYs\trefused\tevicted\tout/in\tCPU/s\theap MiB\t")
	for _, r := range rep.Runs {
		amp := "-"
		if r.FloodIn > 0 {
			amp = fmt.Sprintf("%.3f", r.Amplification)
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%d/%d\t%v\t%v\t%v\t%.0f\t%d\t%d\t%d\t%d\t%s\t%.2f\t%.0f\t\n", r.Attack, r.HellosPerSec, r.DialsOK, r.Dials,
			r.DialMedian.Round(time.Microsecond), r.DialMin.Round(time.Microsecond), r.DialMax.Round(time.Microsecond),
			r.X25519PerSec, r.FirstContacts, r.Retries, r.Refused, r.Evicted, amp, r.CPU, r.HeapMiB)
	}
	tw.Flush()
	for _, r := range rep.Runs {
		if r.Error != "" {
			fmt.Fprintf(w, "%s: first failed dial: %s\n", r.Attack, r.Error)
		}
	}
	fmt.Fprintln(w, "CPU/s is the whole process (node, attacker, dialers); X25519/s is the node's handshake work;")
	fmt.Fprintln(w, "out/in: bytes the node sent to the flooding addresses over bytes it received from them (at most 1).")
	fmt.Fprintf(w, "host: %s/%s, %d CPUs, GOMAXPROCS %d, %s\n", rep.Host.GOOS, rep.Host.GOARCH, rep.Host.NumCPU, rep.Host.GOMAXPROCS, rep.Host.Go)
}

// hsStat reads a handshake counter of n by name (0 if this build has no
// such counter).
func hsStat(n *stt.Node, names ...string) uint64 {
	st := n.Stats().Handshake
	var v uint64
	for _, k := range names {
		v += st[k]
	}
	return v
}

// runHsflood runs one attack against a fresh node and dials it cfg.Dials
// times (every 100 ms, each from a new node) while the attack goes on.
func runHsflood(cfg hsfloodConfig, attack string) (hsfloodResult, error) {
	r := hsfloodResult{Attack: attack, Dials: cfg.Dials}
	seed := make([]byte, 32)
	rand.Read(seed)
	server, err := stt.Listen(stt.Config{ListenAddr: "127.0.0.1:0", Seed: seed, Logger: quietLogger()})
	if err != nil {
		return r, err
	}
	defer server.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			s, err := server.Accept(ctx)
			if err != nil {
				return
			}
			s.Close(stt.CodeNoError, "")
		}
	}()

	dialFrom := "127.1.0.1:0"
	var attacks atomic.Uint64
	var flood *loopFlooder
	switch attack {
	case floodHalfOpen, floodBogusProof:
		n, rate, proofs := 160, 5448, false
		if attack == floodBogusProof {
			n, rate, proofs = 1, 14600, true
		}
		if cfg.Rate > 0 {
			rate = cfg.Rate
		}
		f, err := newLoopFlooder(server.Addr(), n, proofs)
		if err != nil {
			return r, err
		}
		defer f.close()
		// Flooders start without cookies: their HELLOs get RESPONSEs
		// (1-RTT first contacts) until the node is loaded, then RETRYs,
		// whose cookies they use from then on.
		flood = f
		wg.Add(1)
		go func() { defer wg.Done(); f.run(ctx, rate, &attacks) }()
	case floodWrongSeed:
		dialFrom = "127.77.0.1:0"
		other := make([]byte, 32)
		rand.Read(other)
		wrong, err := stt.Listen(stt.Config{ListenAddr: dialFrom, Seed: other, Logger: quietLogger()})
		if err != nil {
			return r, err
		}
		defer wrong.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				dctx, dcancel := context.WithTimeout(ctx, time.Second)
				if s, err := wrong.DialAddrPort(dctx, server.Addr()); err == nil {
					s.Close(stt.CodeNoError, "")
				}
				dcancel()
				attacks.Add(1)
			}
		}()
	}

	time.Sleep(cfg.Warmup)
	runtime.GC()
	before := takeSnapshot()
	x0 := hsStat(server, "handshake_x25519_ops")
	ref0 := hsStat(server, "handshake_half_open_full", "handshake_half_open_per_ip_full", "handshake_half_open_prefix_full", "handshake_work_refused")
	ev0 := hsStat(server, "handshake_half_open_evicted", "handshake_half_open_replaced")
	a0 := attacks.Load()
	start := time.Now()
	var times []time.Duration
	for range cfg.Dials {
		c, err := stt.Listen(stt.Config{ListenAddr: dialFrom, Seed: seed, Logger: quietLogger()})
		if err != nil {
			return r, err
		}
		dctx, dcancel := context.WithTimeout(ctx, cfg.DialTimeout)
		t0 := time.Now()
		s, err := c.DialAddrPort(dctx, server.Addr())
		d := time.Since(t0)
		dcancel()
		if err == nil {
			s.Close(stt.CodeNoError, "")
			times = append(times, d)
		} else if r.Error == "" {
			r.Error = fmt.Sprintf("%v after %v", err, d.Round(time.Millisecond))
		}
		c.Close()
		time.Sleep(100 * time.Millisecond)
	}
	r.Elapsed = time.Since(start)
	after := takeSnapshot()
	secs := r.Elapsed.Seconds()
	r.DialsOK = len(times)
	if len(times) > 0 {
		slices.Sort(times)
		r.DialMedian, r.DialMin, r.DialMax = times[len(times)/2], times[0], times[len(times)-1]
	}
	r.HellosPerSec = float64(attacks.Load()-a0) / secs
	r.X25519PerSec = float64(hsStat(server, "handshake_x25519_ops")-x0) / secs
	r.FirstContacts = hsStat(server, "handshake_first_contact")
	r.Retries = hsStat(server, "handshake_retries_sent")
	if flood != nil {
		cancel() // stop the flood, then let the node's last answers arrive
		time.Sleep(50 * time.Millisecond)
		r.FloodOut = flood.fromNode.Load() // first: every answer follows what it answers
		r.FloodIn = flood.toNode.Load()
		if r.FloodIn > 0 {
			r.Amplification = float64(r.FloodOut) / float64(r.FloodIn)
		}
	}
	r.Refused = hsStat(server, "handshake_half_open_full", "handshake_half_open_per_ip_full", "handshake_half_open_prefix_full", "handshake_work_refused") - ref0
	r.Evicted = hsStat(server, "handshake_half_open_evicted", "handshake_half_open_replaced") - ev0
	r.CPU = (after.user + after.sys - before.user - before.sys).Seconds() / secs
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	r.HeapMiB = float64(ms.HeapInuse) / (1 << 20)
	return r, nil
}

// loopFlooder is a set of UDP sockets on 127.66.0.x that hold cookies
// for their addresses and send HELLOs carrying them (fresh nonces, random
// ephemerals: no X25519 on this side). With proofs it answers every
// RESPONSE with a bogus AUTH_PROOF and a new HELLO (a closed loop beside
// the paced one).
type loopFlooder struct {
	target  netip.AddrPort
	socks   []*net.UDPConn
	cookies []atomic.Pointer[handshake.Cookie]
	proofs  bool
	wg      sync.WaitGroup
	sent    *atomic.Uint64
	// toNode and fromNode count the UDP payload bytes sent to the node
	// and received from it.
	toNode, fromNode atomic.Uint64
}

func newLoopFlooder(target netip.AddrPort, n int, proofs bool) (*loopFlooder, error) {
	f := &loopFlooder{target: target, cookies: make([]atomic.Pointer[handshake.Cookie], n), proofs: proofs, sent: new(atomic.Uint64)}
	for i := range n {
		a := netip.AddrFrom4([4]byte{127, 66, 0, byte(i + 1)})
		c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(a, 0)))
		if err != nil {
			f.close()
			return nil, err
		}
		f.socks = append(f.socks, c)
	}
	for i := range n {
		f.wg.Add(1)
		go f.read(i)
	}
	return f, nil
}

func (f *loopFlooder) close() {
	for _, c := range f.socks {
		c.Close()
	}
	f.wg.Wait()
}

func (f *loopFlooder) send(i int, msg []byte) {
	b, err := handshake.AppendFrame(make([]byte, 0, handshake.MinHelloFrame+64), msg, 1, time.Now())
	if err != nil {
		return
	}
	if n, err := f.socks[i].WriteToUDPAddrPort(b, f.target); err == nil {
		f.toNode.Add(uint64(n))
	}
}

func floodHelloMsg(cookie *handshake.Cookie) []byte {
	h := codec.Hello{Suites: []uint8{1, 2, 3, 4, 5, 6, 7, 8}, Timestamp: time.Now().UnixMilli()}
	rand.Read(h.Nonce[:])
	rand.Read(h.Eph[:])
	rand.Read(h.SID[:])
	h.SID[0] |= 1
	if cookie != nil {
		h.Cookie, h.HasCookie = *cookie, true
	}
	h.PadToFrame(handshake.MinHelloFrame)
	return h.Append(nil)
}

func (f *loopFlooder) read(i int) {
	defer f.wg.Done()
	buf := make([]byte, 2048)
	var fr codec.Frame
	for {
		n, _, err := f.socks[i].ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		f.fromNode.Add(uint64(n))
		if _, err := codec.Decode(buf[:n], &fr); err != nil || fr.Type != codec.TypeHandshake {
			continue
		}
		switch typ, _ := codec.PeekHandshakeType(fr.Payload); typ {
		case codec.HandshakeRetry:
			var r codec.Retry
			if r.Decode(fr.Payload) == nil {
				c := handshake.Cookie(r.Cookie)
				f.cookies[i].Store(&c)
			}
		case codec.HandshakeResponse:
			if !f.proofs {
				continue
			}
			var r codec.Response
			if r.Decode(fr.Payload) != nil {
				continue
			}
			a := codec.AuthProof{Echo: r.Nonce}
			rand.Read(a.Proof[:])
			f.send(i, a.Append(nil))
			f.send(i, floodHelloMsg(f.cookies[i].Load()))
			f.sent.Add(1)
		}
	}
}

// run sends HELLOs round robin at rate per second until ctx ends (with
// the socket's cookie once it has one), adding what it and the closed
// loop send to sent.
func (f *loopFlooder) run(ctx context.Context, rate int, sent *atomic.Uint64) {
	start := time.Now()
	n := 0
	for ctx.Err() == nil {
		due := int(time.Since(start).Seconds() * float64(rate))
		for ; n < due; n++ {
			i := n % len(f.socks)
			f.send(i, floodHelloMsg(f.cookies[i].Load()))
		}
		sent.Store(uint64(n) + f.sent.Load())
		time.Sleep(time.Millisecond)
	}
}
