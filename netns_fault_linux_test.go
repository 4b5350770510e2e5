//go:build linux

package stt

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sttgo/stt/internal/netnstest"
)

// The NAT fault tests run "agents": processes in the namespaces of a
// netnstest.TwoNAT (TestNetnsFaultChild) holding one node each, driven by
// the parent one command per line on stdin, answering one line each.
const (
	envFaultRole      = "STT_FAULT_ROLE"      // "agent"
	envFaultListen    = "STT_FAULT_LISTEN"    // the node's address
	envFaultKeepAlive = "STT_FAULT_KEEPALIVE" // Config.KeepAlive ("" for the default)
	envFaultIdle      = "STT_FAULT_IDLE"      // Config.IdleTimeout ("" for the default)
	envFaultRendez    = "STT_FAULT_RENDEZVOUS"

	faultReady = "STT_FAULT_READY " // "addr id"
	faultReply = "STT_FAULT_REPLY " // "OK ..." or "FAIL ..."
)

// Addresses of the fault tests' nodes: every private node binds port
// privPort (the NATs keep it as the public port while it is free), the
// rendezvous and the public peer bind the public namespace's server
// address.
const (
	faultPrivPort   = 4000
	faultRendezPort = 4500
	faultPublicPort = 4600
)

// agent is a running fault agent.
type agent struct {
	c    *netnstest.Child
	addr netip.AddrPort
	id   string
}

// startAgent starts an agent in namespace ns of n listening on listen.
func startAgent(t *testing.T, ctx context.Context, n *netnstest.TwoNAT, name string, ns int, listen netip.AddrPort, env ...string) *agent {
	t.Helper()
	env = append(env, envFaultRole+"=agent", envFaultListen+"="+listen.String())
	c := n.StartChild(t, ctx, name, ns, "TestNetnsFaultChild", env...)
	line, err := c.Expect(ctx, faultReady)
	if err != nil {
		t.Fatal(err)
	}
	a, id, _ := strings.Cut(line, " ")
	addr, err := netip.ParseAddrPort(a)
	if err != nil {
		t.Fatalf("%s: ready line %q: %v", name, line, err)
	}
	return &agent{c: c, addr: addr, id: id}
}

// send sends a command; reply reads its answer: the words after "OK", or
// an error for "FAIL ...".
func (a *agent) send(t *testing.T, cmd string) {
	t.Helper()
	if err := a.c.Send(cmd); err != nil {
		t.Fatal(err)
	}
}

func (a *agent) reply(t *testing.T, ctx context.Context) ([]string, error) {
	t.Helper()
	line, err := a.c.Expect(ctx, faultReply)
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(line)
	if len(f) == 0 || f[0] != "OK" {
		return nil, errors.New(line)
	}
	return f[1:], nil
}

// ask sends cmd and fails the test unless the answer is OK.
func (a *agent) ask(t *testing.T, ctx context.Context, cmd string) []string {
	t.Helper()
	a.send(t, cmd)
	f, err := a.reply(t, ctx)
	if err != nil {
		t.Fatalf("%q: %v\noutput:\n%s", cmd, err, a.c.Output())
	}
	return f
}

// addrOf parses the address at f[i].
func addrOf(t *testing.T, f []string, i int) netip.AddrPort {
	t.Helper()
	if len(f) <= i {
		t.Fatalf("answer %q has no field %d", f, i)
	}
	ap, err := netip.ParseAddrPort(f[i])
	if err != nil {
		t.Fatal(err)
	}
	return ap
}

// msOf parses the milliseconds at f[i].
func msOf(t *testing.T, f []string, i int) float64 {
	t.Helper()
	if len(f) <= i {
		t.Fatalf("answer %q has no field %d", f, i)
	}
	ms, err := strconv.ParseFloat(f[i], 64)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// faultSetup builds the two-NAT topology with router firewalls (the
// topology of TestNetnsIntroduce) and a rendezvous agent in the public
// namespace with keepAlive (its sessions' PINGs keep the nodes' NAT
// bindings towards it open).
func faultSetup(t *testing.T, ctx context.Context, udpTimeout, keepAlive time.Duration) (*netnstest.TwoNAT, *agent) {
	t.Helper()
	n := netnstest.SetupTwoNAT(t, netnstest.TwoNATOptions{Firewall: true})
	if udpTimeout > 0 {
		for i := range 2 {
			if err := n.SetUDPTimeouts(i, udpTimeout); err != nil {
				t.Fatal(err)
			}
		}
	}
	rz := startAgent(t, ctx, n, "rendezvous (public)", netnstest.TwoPublic, netip.AddrPortFrom(n.ServerAddr, faultRendezPort),
		envFaultRendez+"=1", envFaultKeepAlive+"="+keepAlive.String())
	return n, rz
}

// introduce starts nodes A (private 1) and B (private 2) with env, has
// each connect to the rendezvous and follow its introductions, and A dial
// B through it. It checks that both sessions run directly between the two
// NATs' public addresses at the private port (TestNetnsIntroduce's
// check) and returns A, B and DialVia's time in ms.
func introduce(t *testing.T, ctx context.Context, n *netnstest.TwoNAT, rz *agent, env ...string) (a, b *agent, ms float64) {
	t.Helper()
	listen := netip.AddrPortFrom(n.PrivateAddr, faultPrivPort)
	a = startAgent(t, ctx, n, "node A (private 1)", netnstest.TwoPrivate1, listen, env...)
	b = startAgent(t, ctx, n, "node B (private 2)", netnstest.TwoPrivate2, listen, env...)
	for _, x := range []*agent{a, b} {
		x.ask(t, ctx, fmt.Sprintf("dial %v %s", rz.addr, rz.id))
	}
	b.send(t, "accept")
	f := a.ask(t, ctx, "via "+b.id)
	ms = msOf(t, f, 0)
	fb, err := b.reply(t, ctx)
	if err != nil {
		t.Fatalf("B's accept: %v", err)
	}
	checkDirect(t, n, addrOf(t, f, 1), addrOf(t, fb, 0))
	return a, b, ms
}

// checkDirect checks that A's session runs to NAT 2's public address and
// B's to NAT 1's, both at the private port (masquerade kept it).
func checkDirect(t *testing.T, n *netnstest.TwoNAT, aRemote, bRemote netip.AddrPort) {
	t.Helper()
	if want := netip.AddrPortFrom(n.NATPublicAddr[1], faultPrivPort); aRemote != want {
		t.Fatalf("A's session runs to %v, want B's NAT mapping %v (direct)", aRemote, want)
	}
	if want := netip.AddrPortFrom(n.NATPublicAddr[0], faultPrivPort); bRemote != want {
		t.Fatalf("B's session runs to %v, want A's NAT mapping %v (direct)", bRemote, want)
	}
}

// flowUp reports whether NAT i (0: NAT 1) holds the mapping of its
// private node's port towards the other NAT's public address.
func flowUp(t *testing.T, n *netnstest.TwoNAT, i int) bool {
	t.Helper()
	_, ok, err := n.MappedPort(i, faultPrivPort, netip.AddrPortFrom(n.NATPublicAddr[1-i], faultPrivPort))
	if errors.Is(err, netnstest.ErrNoConntrack) {
		t.Logf("cannot read conntrack tables: %v", err)
		return true
	}
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// TestNetnsNATExpiry: the NATs' conntrack UDP timeouts are 2 s, and the
// nodes of a session introduced through two NATs (router firewalls that
// drop new inbound traffic) stay idle for 5 s. With the session keep-alive
// (Config.KeepAlive) at 500 ms the NAT bindings stay, the session survives
// and datagrams flow both ways after the idle, on the same addresses.
// Control run with the keep-alive at 20 s: the binding between the NATs
// expires (gone from NAT 1's conntrack table) and A's datagrams no longer
// reach B (NAT 2 drops them as new inbound traffic). Recovery: both sides
// close the dead session and A dials B again through the rendezvous,
// whose sessions kept their bindings (its own keep-alive is 500 ms); the
// time from the close to the first echo on the new session is logged.
func TestNetnsNATExpiry(t *testing.T) {
	const timeout, idle = 2 * time.Second, 5 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	n, rz := faultSetup(t, ctx, timeout, 500*time.Millisecond)

	// Keep-alive below the NAT timeout.
	a, b, _ := introduce(t, ctx, n, rz, envFaultKeepAlive+"=500ms")
	time.Sleep(idle)
	if !flowUp(t, n, 0) || !flowUp(t, n, 1) {
		t.Fatalf("with 500 ms keep-alives the NATs dropped the mapping between them after %v idle", idle)
	}
	fa := a.ask(t, ctx, "ping 2s")
	fb := b.ask(t, ctx, "ping 2s")
	t.Logf("keep-alive 500 ms, NAT UDP timeout %v, %v idle: echo A->B->A in %s ms, B->A->B in %s ms", timeout, idle, fa[0], fb[0])
	checkDirect(t, n, addrOf(t, a.ask(t, ctx, "remote"), 0), addrOf(t, b.ask(t, ctx, "remote"), 0))
	a.ask(t, ctx, "closenode")
	b.ask(t, ctx, "closenode")
	for _, x := range []*agent{a, b} {
		if err := x.c.Wait(); err != nil {
			t.Fatal(err)
		}
	}

	// Control: keep-alive above the NAT timeout.
	a, b, _ = introduce(t, ctx, n, rz, envFaultKeepAlive+"=20s")
	time.Sleep(idle)
	if flowUp(t, n, 0) {
		t.Fatalf("NAT 1 still maps A towards NAT 2 after %v idle with a %v UDP timeout", idle, timeout)
	}
	a.send(t, "ping 2s")
	if f, err := a.reply(t, ctx); err == nil {
		t.Fatalf("keep-alive 20 s: A's datagram reached B and came back (%v ms) after the NAT binding expired", f)
	} else {
		t.Logf("keep-alive 20 s, NAT UDP timeout %v, %v idle: A's datagrams do not reach B: %v", timeout, idle, err)
	}
	// Recovery through the rendezvous, which the nodes are still
	// connected to.
	t0 := time.Now()
	a.ask(t, ctx, "closepeer")
	b.ask(t, ctx, "closepeer")
	b.send(t, "accept")
	f := a.ask(t, ctx, "via "+b.id)
	fb, err := b.reply(t, ctx)
	if err != nil {
		t.Fatalf("B's accept after the recovery dial: %v", err)
	}
	checkDirect(t, n, addrOf(t, f, 1), addrOf(t, fb, 0))
	a.ask(t, ctx, "ping 2s")
	t.Logf("recovered: a new DialVia through the rendezvous in %s ms; close to first echo on the new session %.1f ms",
		f[0], float64(time.Since(t0).Microseconds())/1000)
}

// TestNetnsIntroducerGone: A and B, introduced through two NATs by the
// rendezvous, lose it: the rendezvous node closes. Their direct session
// goes on: it outlives its idle timeout several times over on keep-alives
// alone (keep-alive 500 ms, idle timeout 2 s, NAT UDP timeouts 2 s, 5 s
// without data), then carries 4 MiB intact (SHA-256 on both sides), while
// each node's session with the rendezvous has ended.
func TestNetnsIntroducerGone(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	n, rz := faultSetup(t, ctx, 2*time.Second, 0)
	a, b, _ := introduce(t, ctx, n, rz, envFaultKeepAlive+"=500ms", envFaultIdle+"=2s")
	rz.ask(t, ctx, "closenode")
	if err := rz.c.Wait(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Second)
	for _, x := range []*agent{a, b} {
		f := x.ask(t, ctx, "state")
		// "peer=<err> rendezvous=<err>"
		if len(f) != 2 || f[0] != "peer=nil" || f[1] == "rendezvous=nil" {
			t.Fatalf("after the rendezvous closed and 5 s idle: %v (want the peer session up, the rendezvous session ended)", f)
		}
		t.Logf("%s", strings.Join(f, " "))
	}
	const size = 4 << 20
	b.send(t, "recv")
	fa := a.ask(t, ctx, fmt.Sprintf("send %d 0", size))
	fb, err := b.reply(t, ctx)
	if err != nil {
		t.Fatal(err)
	}
	if fa[0] != strconv.Itoa(size) || !slices.Equal(fa, fb) {
		t.Fatalf("stream A->B after the rendezvous left: sent %v, received %v", fa, fb)
	}
	checkDirect(t, n, addrOf(t, a.ask(t, ctx, "remote"), 0), addrOf(t, b.ask(t, ctx, "remote"), 0))
	t.Logf("%d bytes A->B directly after the rendezvous closed, SHA-256 %s on both sides", size, fb[1])
}

// TestNetnsNATRebind: node A behind NAT 1 holds a session with a public
// node P, and NAT 1 changes A's mapping: its masquerade moves to another
// port block and A's conntrack entries are deleted (conntrack -D), as a
// carrier-grade NAT that reassigns port blocks does, so that A's next
// datagram leaves from a new public port. P sees authenticated frames from
// the new address, validates it (PATH_CHALLENGE) and moves the session
// there. Round 1 rebinds in the middle of a 4 MiB transfer from A to P
// (paced: 64 KiB every 20 ms), which arrives intact (SHA-256); each
// further round rebinds an idle session and measures the time from A's
// next datagram to the first echo from P (A sends one every 2 ms; median
// logged). Each round asserts the
// port P's session runs to changed and equals NAT 1's new mapping.
//
// P is public on purpose: between two NATs with inbound firewalls a
// mapping change cannot cross the other NAT (its binding admits only the
// old address and port, and drops the new one as new inbound traffic), so
// only a peer with an open address can follow it.
func TestNetnsNATRebind(t *testing.T) {
	const rounds = 6
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	n := netnstest.SetupTwoNAT(t, netnstest.TwoNATOptions{Firewall: true})
	if _, err := n.DeleteUDPFlows(0, faultPrivPort); errors.Is(err, netnstest.ErrNoConntrackTool) {
		if os.Getenv(netnstest.EnvRequire) == "1" {
			t.Fatal(err)
		}
		t.Skipf("%v; skipping the NAT rebind test", err)
	}
	p := startAgent(t, ctx, n, "public node P", netnstest.TwoPublic, netip.AddrPortFrom(n.ServerAddr, faultPublicPort))
	a := startAgent(t, ctx, n, "node A (private 1)", netnstest.TwoPrivate1, netip.AddrPortFrom(n.PrivateAddr, faultPrivPort))
	p.send(t, "accept")
	a.ask(t, ctx, fmt.Sprintf("dialpeer %v %s", p.addr, p.id))
	if _, err := p.reply(t, ctx); err != nil {
		t.Fatal(err)
	}
	prev := addrOf(t, p.ask(t, ctx, "remote"), 0)
	if want := netip.AddrPortFrom(n.NATPublicAddr[0], faultPrivPort); prev != want {
		t.Fatalf("P's session runs to %v, want NAT 1's mapping %v", prev, want)
	}
	var times []float64
	for r := range rounds {
		lo := uint16(20000 + 1000*r) // a new block each round
		if err := n.SetMasqueradePorts(0, lo, lo+999); err != nil {
			t.Fatal(err)
		}
		if r == 0 {
			p.send(t, "recv")
			a.send(t, fmt.Sprintf("send %d 20ms", 4<<20))
			time.Sleep(300 * time.Millisecond)
		}
		k, err := n.DeleteUDPFlows(0, faultPrivPort)
		if err != nil || k == 0 {
			t.Fatalf("round %d: conntrack -D of A's flow: %d deleted, %v", r+1, k, err)
		}
		if r == 0 {
			fa, err := a.reply(t, ctx)
			if err != nil {
				t.Fatalf("round 1: A's send: %v", err)
			}
			fp, err := p.reply(t, ctx)
			if err != nil || !slices.Equal(fa, fp) {
				t.Fatalf("round 1: rebind during a transfer: A sent %v, P received %v (%v)", fa, fp, err)
			}
			t.Logf("round 1: %s bytes A->P across the rebind, SHA-256 %s on both sides", fa[0], fa[1])
		} else {
			// A datagram every 2 ms: the first after the rebind reaches P
			// from the new address, but P answers on the validated path
			// (the old one, dead) until the new one answered its
			// PATH_CHALLENGE; the echo of a later datagram comes back.
			f := a.ask(t, ctx, "ping 5s 2ms")
			times = append(times, msOf(t, f, 0))
		}
		now := addrOf(t, p.ask(t, ctx, "remote"), 0)
		mapped, ok, err := n.MappedPort(0, faultPrivPort, p.addr)
		if err != nil && !errors.Is(err, netnstest.ErrNoConntrack) {
			t.Fatal(err)
		}
		if now.Addr() != n.NATPublicAddr[0] || now.Port() == prev.Port() || now.Port() < lo || now.Port() > lo+999 ||
			(err == nil && (!ok || mapped != now.Port())) {
			t.Fatalf("round %d: P's session runs to %v (before %v); NAT 1 maps A to port %d (%v), block %d-%d",
				r+1, now, prev, mapped, ok, lo, lo+999)
		}
		t.Logf("round %d: A's mapping moved %v -> %v; P's session followed", r+1, prev, now)
		prev = now
	}
	a.ask(t, ctx, "ping 2s")
	slices.Sort(times)
	t.Logf("time from A's first datagram after a rebind to P's echo, %d rounds: median %.2f ms, range %.2f..%.2f ms",
		len(times), times[len(times)/2], times[0], times[len(times)-1])
}

// TestNetnsFaultChild is not a test: it is the body of the agents the
// NAT fault tests run in the namespaces, and returns at once unless
// STT_FAULT_ROLE is set.
func TestNetnsFaultChild(t *testing.T) {
	if os.Getenv(envFaultRole) != "agent" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cfg := Config{Seed: testSeed, ListenAddr: os.Getenv(envFaultListen), Rendezvous: os.Getenv(envFaultRendez) == "1"}
	for _, v := range []struct {
		env string
		d   *time.Duration
	}{{envFaultKeepAlive, &cfg.KeepAlive}, {envFaultIdle, &cfg.IdleTimeout}} {
		if s := os.Getenv(v.env); s != "" {
			d, err := time.ParseDuration(s)
			if err != nil {
				t.Fatal(err)
			}
			*v.d = d
		}
	}
	n, err := Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	ag := &faultAgent{n: n, accepted: make(chan *Session, 16), pongs: make(chan uint64, 64)}
	go ag.acceptLoop(ctx)
	fmt.Printf("%s%v %v\n", faultReady, n.Addr(), n.NodeID())
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		reply, stop := ag.do(ctx, strings.Fields(in.Text()))
		fmt.Printf("%s%s\n", faultReply, reply)
		if stop {
			return
		}
	}
}

// faultAgent is the state of one agent: its node, its session with the
// rendezvous (rz) and with the peer under test (peer).
type faultAgent struct {
	n        *Node
	accepted chan *Session
	pongs    chan uint64
	rz, peer *Session
	seq      uint64
}

// acceptLoop queues accepted sessions for "accept" and serves datagrams
// on each.
func (ag *faultAgent) acceptLoop(ctx context.Context) {
	for {
		s, err := ag.n.Accept(ctx)
		if err != nil {
			return
		}
		go ag.serve(ctx, s)
		select {
		case ag.accepted <- s:
		default: // the rendezvous accepts many and is never asked
		}
	}
}

// serve answers "ping N" with "pong N" on s and passes pongs to ping.
func (ag *faultAgent) serve(ctx context.Context, s *Session) {
	buf := make([]byte, 2048)
	for {
		k, st, err := s.ReceiveDatagram(ctx, buf)
		if err != nil {
			return
		}
		word, num, _ := strings.Cut(string(buf[:k]), " ")
		switch word {
		case "ping":
			_ = s.SendDatagram(st, []byte("pong "+num))
		case "pong":
			if v, err := strconv.ParseUint(num, 10, 64); err == nil {
				select {
				case ag.pongs <- v:
				default:
				}
			}
		}
	}
}

// errWord renders a session's error for a reply: "nil" or its text
// without spaces.
func errWord(s *Session) string {
	if s == nil {
		return "none"
	}
	if err := s.Err(); err != nil {
		return strings.ReplaceAll(err.Error(), " ", "_")
	}
	return "nil"
}

// do runs one command and returns the reply line, and whether the agent
// is done.
func (ag *faultAgent) do(ctx context.Context, cmd []string) (string, bool) {
	fail := func(err error) (string, bool) { return "FAIL " + err.Error(), false }
	arg := func(i int) string {
		if i < len(cmd) {
			return cmd[i]
		}
		return ""
	}
	ms := func(t0 time.Time) string { return fmt.Sprintf("%.3f", float64(time.Since(t0).Microseconds())/1000) }
	switch arg(0) {
	case "dial", "dialpeer": // ADDR ID: a session with the rendezvous, or with the peer
		id, err := ParseNodeID(arg(2))
		if err != nil {
			return fail(err)
		}
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		s, err := ag.n.DialPeer(dctx, arg(1), id)
		cancel()
		if err != nil {
			return fail(err)
		}
		go ag.serve(ctx, s)
		if arg(0) == "dial" {
			ag.n.UseIntroducer(s)
			ag.rz = s
		} else {
			ag.peer = s
		}
		return fmt.Sprintf("OK %v", s.RemoteAddr()), false
	case "via": // ID: DialVia, asking again while the rendezvous lacks the target
		id, err := ParseNodeID(arg(1))
		if err != nil {
			return fail(err)
		}
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		t0 := time.Now()
		for {
			s, err := ag.n.DialVia(dctx, id, ag.rz)
			var re *IntroRefusedError
			if errors.As(err, &re) && re.Reason == IntroNoSession {
				time.Sleep(50 * time.Millisecond)
				continue
			}
			if err != nil {
				return fail(err)
			}
			if s.PeerNodeID() != id {
				return fail(fmt.Errorf("DialVia gave a session with %v", s.PeerNodeID()))
			}
			go ag.serve(ctx, s)
			ag.peer = s
			return fmt.Sprintf("OK %s %v", ms(t0), s.RemoteAddr()), false
		}
	case "accept":
		select {
		case s := <-ag.accepted:
			ag.peer = s
			return fmt.Sprintf("OK %v", s.RemoteAddr()), false
		case <-time.After(10 * time.Second):
			return fail(errors.New("nothing to accept within 10 s"))
		}
	case "ping": // TIMEOUT [EVERY]: a datagram to the peer every EVERY (100 ms) until one comes back
		d, err := time.ParseDuration(arg(1))
		every := 100 * time.Millisecond
		if arg(2) != "" && err == nil {
			every, err = time.ParseDuration(arg(2))
		}
		if err != nil || ag.peer == nil {
			return fail(fmt.Errorf("ping: %v (peer %v)", err, ag.peer != nil))
		}
		ag.seq++
		first := ag.seq
		t0 := time.Now()
		deadline := time.NewTimer(d)
		defer deadline.Stop()
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			_ = ag.peer.SendDatagram(1, []byte(fmt.Sprintf("ping %d", ag.seq)))
			select {
			case v := <-ag.pongs:
				if v >= first {
					return "OK " + ms(t0), false
				}
			case <-tick.C:
				ag.seq++
			case <-deadline.C:
				return fail(fmt.Errorf("no_echo_within_%v_(%d_sent,_session_%s)", d, ag.seq-first+1, errWord(ag.peer)))
			}
		}
	case "remote":
		if ag.peer == nil {
			return fail(errors.New("no peer session"))
		}
		return fmt.Sprintf("OK %v", ag.peer.RemoteAddr()), false
	case "state":
		return fmt.Sprintf("OK peer=%s rendezvous=%s", errWord(ag.peer), errWord(ag.rz)), false
	case "send": // BYTES PAUSE: a stream of BYTES (64 KiB writes, PAUSE between them)
		size, err1 := strconv.Atoi(arg(1))
		pause, err2 := time.ParseDuration(arg(2))
		if err := errors.Join(err1, err2); err != nil || ag.peer == nil {
			return fail(fmt.Errorf("send: %v", err))
		}
		st, err := ag.peer.OpenStream(ctx)
		if err != nil {
			return fail(err)
		}
		h := sha256.New()
		src := rand.NewChaCha8([32]byte{7})
		buf := make([]byte, 64<<10)
		for k := 0; k < size; k += len(buf) {
			_, _ = src.Read(buf)
			if _, err := st.Write(buf); err != nil {
				return fail(err)
			}
			h.Write(buf)
			time.Sleep(pause)
		}
		if err := st.CloseWrite(); err != nil {
			return fail(err)
		}
		return fmt.Sprintf("OK %d %s", size, hex.EncodeToString(h.Sum(nil))), false
	case "recv":
		if ag.peer == nil {
			return fail(errors.New("no peer session"))
		}
		rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		st, err := ag.peer.AcceptStream(rctx)
		if err != nil {
			return fail(err)
		}
		h := sha256.New()
		k, err := io.Copy(h, st)
		if err != nil {
			return fail(err)
		}
		return fmt.Sprintf("OK %d %s", k, hex.EncodeToString(h.Sum(nil))), false
	case "closepeer":
		if ag.peer != nil {
			ag.peer.Close(CodeNoError, "dead path")
		}
		return "OK", false
	case "closenode":
		if err := ag.n.Close(); err != nil {
			return fail(err)
		}
		return "OK", true
	}
	return fail(fmt.Errorf("unknown command %q", cmd))
}
