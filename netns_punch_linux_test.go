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
	"github.com/sttgo/stt/internal/stuntest"
)

// Environment, commands and output lines of the children TestNetnsPunch
// runs. A peer runs rounds; each round is a fresh node (new socket, new
// NAT mappings) that prints its reflexive address, reads one dial command
// on stdin, dials, reports, and closes when told.
const (
	envPunchRole   = "STT_PUNCH_ROLE"   // "stun" or "peer"
	envPunchServer = "STT_PUNCH_SERVER" // stun: listen address; peer: STUN server
	envPunchListen = "STT_PUNCH_LISTEN" // peer: address to bind
	envPunchRounds = "STT_PUNCH_ROUNDS" // peer: rounds to run

	punchReady     = "STT_PUNCH_READY "     // stun: bound address
	punchReflexive = "STT_PUNCH_REFLEXIVE " // peer: local reflexive
	punchResult    = "STT_PUNCH_RESULT "    // peer: ok|fail ms kept yield frames_in accepted err...
	punchSum       = "STT_PUNCH_SUM "       // peer: bytes sha256 (sent or received)
	punchRate      = "STT_PUNCH_RATE "      // receiving peer: MB/s from the stream's arrival to its end

	// Commands to a peer: "dial <peer> <start unix ns> <bound ms> <send|recv|none>",
	// then "next" (end the round).
	punchDial = "dial"
	punchNext = "next"
)

// punchBytes is what the both-eim case moves over a stream after the punch.
const punchBytes = 16 << 20

// TestNetnsPunch: two stt nodes, each in a private namespace behind its own
// nftables NAT, learn their reflexive addresses from a STUN server (pion's)
// in a public namespace; the test relays each node's reflexive address to
// the other (standing in for an introducer) and both Dial the other at the
// same instant, as a hole punch. Simultaneous open leaves one session.
//
//   - both-eim: both NATs map endpoint-independently (plain masquerade)
//     and, like home routers, drop unsolicited inbound traffic to
//     themselves (TwoNATOptions.Firewall). The punch works: each side's
//     first HELLO opens its own NAT for the peer's reflexive address; a
//     HELLO that arrives before the peer's NAT has that mapping is dropped
//     there, and the other side's HELLO crosses. Both Dials return the two
//     ends of one session (exactly one side yields its initiator), 16 MiB
//     cross a stream intact (SHA-256), and each NAT's conntrack shows the
//     reflexive port reused towards the peer. Time to connect is logged:
//     about a millisecond here, except when the side whose first HELLO was
//     dropped has the lower nonce: it stays initiator, so it drops the
//     peer's HELLO (SimultaneousKept) without answering, and the session
//     waits for its HELLO's retransmission, one initial RTO (200 ms).
//   - both-eim-stagger: the same, with node 2 dialing 20 ms after node 1
//     (as when an introducer's messages reach the two nodes at different
//     times): node 1's first HELLO is always the one dropped, so the
//     session takes one RTO more whenever node 1 has the lower nonce.
//   - both-eim-nofirewall: the same NATs without the input firewall, and
//     node 2 dialing 20 ms after node 1. Node 1's first HELLO reaches NAT
//     2 before node 2 sends anything: NAT 2 delivers it to its own
//     (closed) UDP port, and conntrack keeps an entry for it (NAT 1's
//     address and port to NAT 2's address and node 2's reflexive port).
//     Node 2's HELLO then needs that very tuple for its mapping; Linux
//     finds it taken and maps the socket to another port (conntrack
//     shows it), so NAT 1 never matches node 2's packets, node 1's
//     retransmissions keep hitting NAT 2's entry (each refreshes its 30 s
//     unreplied timeout), and the punch fails for as long as the Dial
//     lasts. This happens whenever the second node's first HELLO leaves
//     after the first node's reached its NAT: always on veths, and on the
//     Internet when the two nodes start more than the one-way delay apart,
//     behind a Linux NAT whose input chain accepts. The test asserts the
//     failure, so that a change (kernel or topology) is noticed.
//   - both-random: both NATs map per destination ("masquerade random").
//     The reflexive addresses STUN reported belong to the mappings towards
//     the STUN server; each HELLO towards the peer leaves from a fresh
//     random port, which the peer's NAT does not know, and arrives at a
//     port whose mapping only admits the STUN server. No datagram reaches
//     either node and both Dials fail at their bound: this is the case for
//     a TURN relay (a later step of issue 15).
//   - eim-random: NAT 1 maps endpoint-independently, NAT 2 per
//     destination, both with the firewall. Node 1's reflexive address is
//     right for node 2, but node 2's HELLO leaves from a new random port,
//     and NAT 1 filters by address and port (Linux conntrack admits only
//     replies to the exact tuple it sent to): node 1 never sees it. Node
//     1's HELLO goes to node 2's STUN mapping, which admits only the STUN
//     server. Both Dials fail at their bound, no datagram arrives: with
//     Linux NATs one per-destination side is enough to need the relay.
//   - fullcone-random: as eim-random, but NAT 1 filters
//     endpoint-independently ("full cone": every inbound UDP datagram goes
//     to node 1, TwoNATOptions.FullCone). Node 2's HELLO from its new
//     random port now reaches node 1, whose responder answers it at that
//     (peer-reflexive) address, which NAT 2 admits as a reply: node 2's
//     Dial returns the session after one round trip. Node 1 gets the same
//     session from Accept, not from its Dial, which waits for a handshake
//     with node 2's STUN-reported address and fails at its bound: a Dial
//     adopts only a handshake from the address it targets. The introducer
//     will have to match the accepted session to the introduction by node
//     id (or the Dial adopt a session with the expected node id from
//     another address).
//
// Each case runs a few rounds, each with fresh nodes; the figures are
// logged. The namespaces are deleted afterwards.
func TestNetnsPunch(t *testing.T) {
	eim, random := netnstest.EndpointIndependent, netnstest.PerDestination
	for _, c := range []punchCase{
		{name: "both-eim", opts: netnstest.TwoNATOptions{Firewall: true}, rounds: 9,
			want: [2]punchWant{wantDial, wantDial}, keepsPort: [2]bool{true, true}},
		{name: "both-eim-stagger", opts: netnstest.TwoNATOptions{Firewall: true}, rounds: 5, stagger: 20 * time.Millisecond,
			want: [2]punchWant{wantDial, wantDial}, keepsPort: [2]bool{true, true}},
		{name: "both-eim-nofirewall", opts: netnstest.TwoNATOptions{}, rounds: 1, stagger: 20 * time.Millisecond,
			want: [2]punchWant{wantNone, wantNone}, keepsPort: [2]bool{true, false}},
		{name: "both-random", opts: netnstest.TwoNATOptions{Firewall: true, Mapping: [2]netnstest.Mapping{random, random}},
			rounds: 1, want: [2]punchWant{wantNone, wantNone}, keepsPort: [2]bool{false, false}},
		{name: "eim-random", opts: netnstest.TwoNATOptions{Firewall: true, Mapping: [2]netnstest.Mapping{eim, random}},
			rounds: 1, want: [2]punchWant{wantNone, wantNone}, keepsPort: [2]bool{true, false}},
		{name: "fullcone-random", opts: netnstest.TwoNATOptions{Firewall: true, Mapping: [2]netnstest.Mapping{eim, random},
			FullCone: [2]bool{true, false}}, rounds: 2,
			want: [2]punchWant{wantAccept, wantDial}, keepsPort: [2]bool{true, false}},
	} {
		t.Run(c.name, func(t *testing.T) { netnsPunch(t, c) })
	}
}

// punchCase is one topology of TestNetnsPunch.
type punchCase struct {
	name   string
	opts   netnstest.TwoNATOptions
	rounds int
	// stagger delays node 2's Dial after node 1's (0: both at once).
	stagger time.Duration
	// want is each node's expected outcome.
	want [2]punchWant
	// keepsPort: NAT i maps its node's socket, towards the peer's
	// reflexive address, to the same port as towards the STUN server
	// (the reflexive port), as its conntrack table shows.
	keepsPort [2]bool
}

// punchWant is what a node of TestNetnsPunch should get from its Dial.
type punchWant int

const (
	// wantDial: the Dial returns the session.
	wantDial punchWant = iota
	// wantAccept: the Dial fails at its bound; the session arrives by
	// Accept instead (the peer's HELLO came from an address the Dial did
	// not target).
	wantAccept
	// wantNone: the Dial fails at its bound and no datagram of the peer
	// arrives at all.
	wantNone
)

// punchBound bounds each Dial of a hole punch expected to fail.
const punchBound = time.Second

// punchOutcome is one peer's RESULT line.
type punchOutcome struct {
	ok                 bool
	ms                 float64
	kept, yield        int
	framesIn, accepted int
	err                string
}

func parsePunchResult(line string) (punchOutcome, error) {
	f := strings.SplitN(line, " ", 7)
	if len(f) < 6 {
		return punchOutcome{}, fmt.Errorf("result line %q", line)
	}
	var o punchOutcome
	o.ok = f[0] == "ok"
	var errs [5]error
	o.ms, errs[0] = strconv.ParseFloat(f[1], 64)
	o.kept, errs[1] = strconv.Atoi(f[2])
	o.yield, errs[2] = strconv.Atoi(f[3])
	o.framesIn, errs[3] = strconv.Atoi(f[4])
	o.accepted, errs[4] = strconv.Atoi(f[5])
	if err := errors.Join(errs[:]...); err != nil {
		return o, fmt.Errorf("result line %q: %w", line, err)
	}
	if len(f) == 7 {
		o.err = f[6]
	}
	return o, nil
}

func netnsPunch(t *testing.T, c punchCase) {
	opts, rounds := c.opts, c.rounds
	connects := c.want == [2]punchWant{wantDial, wantDial}
	n := netnstest.SetupTwoNAT(t, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	stun := n.StartChild(t, ctx, "STUN server (public)", netnstest.TwoPublic, "TestNetnsPunchChild",
		envPunchRole+"=stun", envPunchServer+"="+netip.AddrPortFrom(n.ServerAddr, 3478).String())
	srv, err := stun.Expect(ctx, punchReady)
	if err != nil {
		t.Fatal(err)
	}
	var peers [2]*netnstest.Child
	for i, ns := range []int{netnstest.TwoPrivate1, netnstest.TwoPrivate2} {
		peers[i] = n.StartChild(t, ctx, fmt.Sprintf("node %d (private %d)", i+1, i+1), ns, "TestNetnsPunchChild",
			envPunchRole+"=peer", envPunchServer+"="+srv, envPunchRounds+"="+strconv.Itoa(rounds),
			envPunchListen+"="+netip.AddrPortFrom(n.PrivateAddr, 0).String())
	}
	t.Logf("NAT 1 %v, NAT 2 %v, firewall %v, full cone %v", opts.Mapping[0], opts.Mapping[1], opts.Firewall, opts.FullCone)
	var times []float64
	initiator := [2]int{}
	for r := range rounds {
		var refl, local [2]netip.AddrPort
		for i, p := range peers {
			line, err := p.Expect(ctx, punchReflexive)
			if err != nil {
				t.Fatal(err)
			}
			ls, rs, _ := strings.Cut(line, " ")
			var err1, err2 error
			local[i], err1 = netip.ParseAddrPort(ls)
			refl[i], err2 = netip.ParseAddrPort(rs)
			if err1 != nil || err2 != nil {
				t.Fatalf("node %d printed %q", i+1, line)
			}
			if refl[i].Addr() != n.NATPublicAddr[i] {
				t.Fatalf("node %d (socket %v): reflexive address %v, want NAT %d's public address %v", i+1, local[i], refl[i], i+1, n.NATPublicAddr[i])
			}
		}
		// Both dial 50 ms from now, by the shared clock of the namespaces.
		start := time.Now().Add(50 * time.Millisecond).UnixNano()
		bound := punchBound
		data := [2]string{"none", "none"}
		if connects {
			bound = 5 * time.Second
			if r == 0 {
				data = [2]string{"send", "recv"}
			}
		}
		for i, p := range peers {
			at := start + int64(i)*c.stagger.Nanoseconds()
			if err := p.Send(fmt.Sprintf("%s %v %d %d %s", punchDial, refl[1-i], at, bound.Milliseconds(), data[i])); err != nil {
				t.Fatal(err)
			}
		}
		var out [2]punchOutcome
		for i, p := range peers {
			line, err := p.Expect(ctx, punchResult)
			if err != nil {
				t.Fatal(err)
			}
			if out[i], err = parsePunchResult(line); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("round %d: node 1 -> %v, node 2 -> %v: node 1 %+v; node 2 %+v", r+1, refl[1], refl[0], out[0], out[1])
		checkPunchMappings(t, n, c, local, refl)
		if connects {
			for i, o := range out {
				if !o.ok {
					t.Fatalf("round %d: node %d's Dial failed after %.1f ms: %s", r+1, i+1, o.ms, o.err)
				}
				if o.kept > 0 && o.yield > 0 {
					t.Errorf("round %d: node %d both kept and yielded its initiator", r+1, i+1)
				}
			}
			// Exactly one side stays initiator: it kept its HELLO against the
			// peer's, or the peer yielded (its own HELLO never crossed).
			switch {
			case out[0].yield == 1 && out[1].yield == 0:
				initiator[1]++
			case out[1].yield == 1 && out[0].yield == 0:
				initiator[0]++
			default:
				t.Errorf("round %d: no side yielded exactly once (yield %d/%d): two sessions or none", r+1, out[0].yield, out[1].yield)
			}
			// From the later Dial's start to the later Dial's return.
			stag := float64(c.stagger.Microseconds()) / 1000
			times = append(times, max(out[0].ms-stag, out[1].ms))
			if data[0] == "send" {
				var sums [2]string
				for i, p := range peers {
					if sums[i], err = p.Expect(ctx, punchSum); err != nil {
						t.Fatal(err)
					}
				}
				want := fmt.Sprintf("%d ", punchBytes)
				if !strings.HasPrefix(sums[0], want) || sums[0] != sums[1] {
					t.Errorf("stream: node 1 sent %q, node 2 received %q", sums[0], sums[1])
				} else {
					t.Logf("stream: %d bytes from node 1 to node 2, SHA-256 %s on both sides", punchBytes, strings.TrimPrefix(sums[1], want))
				}
			}
		} else {
			for i, o := range out {
				if c.want[i] == wantDial {
					if !o.ok {
						t.Fatalf("round %d: node %d's Dial failed after %.1f ms: %s", r+1, i+1, o.ms, o.err)
					}
					times = append(times, o.ms)
					continue
				}
				if o.ok {
					t.Fatalf("round %d: node %d's Dial succeeded after %.1f ms; this NAT pair should defeat it", r+1, i+1, o.ms)
				}
				if limit := float64(bound.Milliseconds() + 1000); o.ms > limit {
					t.Errorf("round %d: node %d's Dial failed only after %.0f ms, bound %v", r+1, i+1, o.ms, bound)
				}
				if !strings.Contains(o.err, "deadline") && !strings.Contains(o.err, "timeout") {
					t.Errorf("round %d: node %d's Dial failed with %q, want its deadline", r+1, i+1, o.err)
				}
				switch {
				case c.want[i] == wantAccept && o.accepted != 1:
					t.Errorf("round %d: node %d accepted %d sessions, want the peer's one", r+1, i+1, o.accepted)
				case c.want[i] == wantNone && (o.framesIn != 0 || o.accepted != 0):
					// Not one STT datagram of the peer crossed the NATs.
					t.Errorf("round %d: node %d received %d STT frames and accepted %d sessions; want none through these NATs", r+1, i+1, o.framesIn, o.accepted)
				}
			}
		}
		for _, p := range peers {
			if err := p.Send(punchNext); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, p := range peers {
		if err := p.Wait(); err != nil {
			t.Error(err)
		}
	}
	if len(times) > 0 {
		slices.Sort(times)
		what := "the Dial that succeeded"
		if connects {
			what = fmt.Sprintf("from the later Dial's start to both Dials' return; node 1 stayed initiator %d times, node 2 %d times", initiator[0], initiator[1])
		}
		t.Logf("time to connect (%s), %d rounds: median %.1f ms, range %.1f..%.1f ms",
			what, len(times), times[len(times)/2], times[0], times[len(times)-1])
	}
}

// checkPunchMappings asserts, from each NAT's conntrack table, how it
// mapped its node's socket towards the peer's reflexive address: to the
// reflexive port (the mapping STUN saw) or to another one. Without a
// readable table (no CONFIG_NF_CONNTRACK_PROCFS) it says so and checks
// nothing.
func checkPunchMappings(t *testing.T, n *netnstest.TwoNAT, c punchCase, local, refl [2]netip.AddrPort) {
	t.Helper()
	for i := range 2 {
		port, ok, err := n.MappedPort(i, local[i].Port(), refl[1-i])
		if errors.Is(err, netnstest.ErrNoConntrack) {
			t.Logf("NAT mappings not checked: %v", err)
			return
		}
		if err != nil || !ok {
			t.Errorf("NAT %d has no flow from %v to %v (%v)", i+1, local[i], refl[1-i], err)
			continue
		}
		t.Logf("NAT %d maps %v to %v:%d towards %v (reflexive port %d)", i+1, local[i], n.NATPublicAddr[i], port, refl[1-i], refl[i].Port())
		if (port == refl[i].Port()) != c.keepsPort[i] {
			t.Errorf("NAT %d: mapped port %d towards the peer, reflexive port %d; want same=%v", i+1, port, refl[i].Port(), c.keepsPort[i])
		}
	}
	if c.name == "both-eim-nofirewall" {
		// The blocking entry: node 1's HELLO, delivered to NAT 2 itself.
		flows, err := n.UDPFlows(1)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, f := range flows {
			found = found || (f.Orig.Src == refl[0] && f.Orig.Dst == refl[1] && f.Reply.Dst == refl[0])
		}
		if !found {
			t.Errorf("NAT 2 has no un-NATed entry %v -> %v (node 1's HELLO to NAT 2 itself): %+v", refl[0], refl[1], flows)
		}
	}
}

// TestNetnsPunchChild is not a test: it is the body of the processes
// TestNetnsPunch runs in the namespaces, and returns at once unless
// STT_PUNCH_ROLE is set.
func TestNetnsPunchChild(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	switch os.Getenv(envPunchRole) {
	case "":
		return
	case "stun":
		srv, err := stuntest.Listen(os.Getenv(envPunchServer))
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		fmt.Println(punchReady + srv.Addr().String())
		<-ctx.Done() // killed by the parent when done
	case "peer":
		rounds, _ := strconv.Atoi(os.Getenv(envPunchRounds))
		in := bufio.NewScanner(os.Stdin)
		for range rounds {
			if err := punchRound(ctx, in); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// punchRound is one round of a punch peer: a fresh node, its reflexive
// address printed, one dial command run, closed at "next".
func punchRound(ctx context.Context, in *bufio.Scanner) error {
	n, err := Listen(Config{Seed: testSeed, ListenAddr: os.Getenv(envPunchListen),
		STUNServers: []string{os.Getenv(envPunchServer)}})
	if err != nil {
		return err
	}
	defer n.Close()
	refl, err := n.ReflexiveAddrs(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("%s%v %v\n", punchReflexive, n.Addr(), refl[0])
	line, err := readLine(in)
	if err != nil {
		return err
	}
	var cmd, peerStr, data string
	var startNs, boundMs int64
	if _, err := fmt.Sscan(line, &cmd, &peerStr, &startNs, &boundMs, &data); err != nil || cmd != punchDial {
		return fmt.Errorf("command %q: %v", line, err)
	}
	peer, err := netip.ParseAddrPort(peerStr)
	if err != nil {
		return err
	}
	dctx, dcancel := context.WithTimeout(ctx, time.Until(time.Unix(0, startNs))+time.Duration(boundMs)*time.Millisecond)
	defer dcancel()
	// Whatever reaches the Accept side (a session not adopted by the Dial).
	accepted := make(chan int, 1)
	go func() {
		k := 0
		for {
			s, err := n.Accept(dctx)
			if err != nil {
				accepted <- k
				return
			}
			k++
			s.Close(CodeNoError, "unexpected")
		}
	}()
	time.Sleep(time.Until(time.Unix(0, startNs)))
	t0 := time.Now()
	s, err := n.DialAddrPort(dctx, peer)
	ms := float64(time.Since(t0).Microseconds()) / 1000
	if err == nil {
		// The session is made: stop the Accept watcher now.
		dcancel()
	}
	acc := <-accepted
	st := n.Stats()
	res := "ok"
	if err != nil {
		res = "fail"
	}
	fmt.Printf("%s%s %.3f %d %d %d %d %v\n", punchResult, res, ms,
		st.Sessions["simultaneous_kept"], st.Sessions["simultaneous_yield"], st.Engine["frames_in"], acc, err)
	if err == nil {
		if err := punchData(ctx, s, data); err != nil {
			return err
		}
	}
	line, err = readLine(in)
	if err != nil {
		return err
	}
	if line != punchNext {
		return fmt.Errorf("command %q, want %q", line, punchNext)
	}
	return nil
}

// punchData sends punchBytes of seeded random data over a new stream
// (data "send") or reads one stream to its end ("recv"), and prints the
// byte count and SHA-256 of what it sent or received.
func punchData(ctx context.Context, s *Session, data string) error {
	h := sha256.New()
	var k int64
	rate := -1.0
	switch data {
	case "send":
		st, err := s.OpenStream(ctx)
		if err != nil {
			return err
		}
		src := rand.NewChaCha8([32]byte{15})
		buf := make([]byte, 64<<10)
		for k < punchBytes {
			_, _ = src.Read(buf)
			if _, err := st.Write(buf); err != nil {
				return err
			}
			h.Write(buf)
			k += int64(len(buf))
		}
		if err := st.CloseWrite(); err != nil {
			return err
		}
	case "recv":
		st, err := s.AcceptStream(ctx)
		if err != nil {
			return err
		}
		t0 := time.Now()
		if k, err = io.Copy(h, st); err != nil {
			return err
		}
		rate = float64(k) / 1e6 / time.Since(t0).Seconds()
	default:
		return nil
	}
	fmt.Printf("%s%d %s\n", punchSum, k, hex.EncodeToString(h.Sum(nil)))
	if rate >= 0 {
		fmt.Printf("%s%.1f\n", punchRate, rate)
	}
	return nil
}

// readLine reads the next line of stdin.
func readLine(in *bufio.Scanner) (string, error) {
	if !in.Scan() {
		if err := in.Err(); err != nil {
			return "", err
		}
		return "", io.ErrUnexpectedEOF
	}
	return strings.TrimSpace(in.Text()), nil
}
