//go:build linux

package stt

import (
	"bufio"
	"context"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sttgo/stt/internal/netnstest"
)

// Environment, commands and output lines of the children of
// TestNetnsIntroduce.
const (
	envIntroRole   = "STT_INTRO_ROLE"   // "rendezvous" or "peer"
	envIntroServer = "STT_INTRO_SERVER" // rendezvous: listen address; peer: "addr id" of the rendezvous
	envIntroListen = "STT_INTRO_LISTEN" // peer: address to bind
	envIntroRounds = "STT_INTRO_ROUNDS" // peer: rounds to run
	envIntroTURN   = "STT_INTRO_TURN"   // peer: a turn:// URL (Config.TURNServers), optional

	introReady  = "STT_INTRO_READY "  // rendezvous: "addr id"
	introHas    = "STT_INTRO_HAS "    // rendezvous: the node id of a session it accepted
	introID     = "STT_INTRO_ID "     // peer: its node id, once its session with the rendezvous is up
	introDirect = "STT_INTRO_DIRECT " // peer: ms its Dial to the rendezvous took (a direct Dial through its NAT)
	introMoved  = "STT_INTRO_MOVED "  // peer, data "upgrade-*": ms until the session left its first path, remote_addr relayed
	introResult = "STT_INTRO_RESULT " // peer: ok|fail ms remote_addr peer_id_ok extra_sessions relayed | err...
	// Commands to a peer: "via <id> <send|recv|none>" (requester),
	// "accept <id> <send|recv|none>" (target), then "next".
)

// TestNetnsIntroduce: a rendezvous node in the public namespace, nodes 1
// and 2 each in a private namespace behind its own endpoint-independent
// nftables NAT with a router's input firewall (TestNetnsPunch's both-eim
// topology). Each node dials the rendezvous (pinning its node id) and
// marks that session as its introducer; node 1 then calls DialVia with
// node 2's id, and node 2 waits in Accept. Nobody passes addresses but the
// rendezvous: the introduction carries each node's NAT mapping as the
// rendezvous sees it. Each round (fresh nodes, fresh NAT mappings)
// asserts one session with the right proven ids on both sides, running
// directly between the two NATs' public addresses (not through the
// rendezvous), and no second session on either side; the first round
// moves 16 MiB over a stream (SHA-256 on both sides). Time to connect
// (DialVia's call to its return, the introduction's round trip included)
// is logged as median and range.
func TestNetnsIntroduce(t *testing.T) {
	n := netnstest.SetupTwoNAT(t, netnstest.TwoNATOptions{Firewall: true})
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	times, direct, _ := introduceRounds(t, ctx, n, introCase{rounds: 10}, func(r, i int, remote netip.AddrPort, relayed bool) {
		// Direct: the session runs to the other NAT's public address,
		// not to the rendezvous.
		if remote.Addr() != n.NATPublicAddr[1-i] || relayed {
			t.Errorf("round %d: node %d's session runs to %v (relayed %v), want NAT %d's address %v (direct)", r+1, i+1, remote, relayed, 2-i, n.NATPublicAddr[1-i])
		}
	})
	t.Logf("time to connect, %d rounds: DialVia through the rendezvous (both NATs endpoint-independent, punched) %s; Dial to the public rendezvous (direct) %s",
		len(times), msStats(times), msStats(direct))
}

// msStats formats the median and range of ms values.
func msStats(ms []float64) string {
	med, lo, hi := medianRange(ms)
	return fmt.Sprintf("median %.1f ms, range %.1f..%.1f ms", med, lo, hi)
}

// introCase configures introduceRounds.
type introCase struct {
	rounds int
	// env holds extra environment entries of node 1 and node 2 (such as
	// envIntroTURN).
	env [2][]string
	// upgrade, if set, runs in the first round once both sides have the
	// session (which check saw on its first path): it opens a path (such
	// as a direct one), then both sides wait until their session moves and
	// report where to moved, before the stream runs on the new path.
	upgrade *introUpgrade
}

// introUpgrade is the path change of an introCase.
type introUpgrade struct {
	open  func()
	moved func(i int, remote netip.AddrPort, relayed bool, ms float64)
}

// introduceRounds runs a rendezvous in n's public namespace and nodes 1
// and 2 in the private ones, and for c.rounds rounds (fresh nodes, fresh
// NAT mappings) makes node 1 DialVia node 2 while node 2 waits in
// Accept. Each round asserts one session on each side with the right
// proven ids and hands each side's remote address and Relayed flag to
// check; the first round moves 16 MiB over a stream (SHA-256 on both
// sides). It returns DialVia's times (ms), node 1's Dial times to the
// rendezvous (ms: direct, through its NAT) and the stream's goodput at
// the receiver (MB/s).
func introduceRounds(t *testing.T, ctx context.Context, n *netnstest.TwoNAT, c introCase, check func(r, i int, remote netip.AddrPort, relayed bool)) (times, direct []float64, goodput float64) {
	t.Helper()
	rz := n.StartChild(t, ctx, "rendezvous (public)", netnstest.TwoPublic, "TestNetnsIntroduceChild",
		envIntroRole+"=rendezvous", envIntroServer+"="+netip.AddrPortFrom(n.ServerAddr, 4500).String())
	srv, err := rz.Expect(ctx, introReady)
	if err != nil {
		t.Fatal(err)
	}
	var peers [2]*netnstest.Child
	for i, ns := range []int{netnstest.TwoPrivate1, netnstest.TwoPrivate2} {
		env := append([]string{envIntroRole + "=peer", envIntroServer + "=" + srv, envIntroRounds + "=" + strconv.Itoa(c.rounds),
			envIntroListen + "=" + netip.AddrPortFrom(n.PrivateAddr, 0).String()}, c.env[i]...)
		peers[i] = n.StartChild(t, ctx, fmt.Sprintf("node %d (private %d)", i+1, i+1), ns, "TestNetnsIntroduceChild", env...)
	}
	for r := range c.rounds {
		var ids [2]string
		for i, p := range peers {
			d, err := p.Expect(ctx, introDirect)
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				ms, _ := strconv.ParseFloat(d, 64)
				direct = append(direct, ms)
			}
			if ids[i], err = p.Expect(ctx, introID); err != nil {
				t.Fatal(err)
			}
		}
		// A Dial returns one round trip before its responder has the
		// session: wait until the rendezvous holds both (an earlier request
		// would be refused, IntroNoSession).
		for range 2 {
			id, err := rz.Expect(ctx, introHas)
			if err != nil {
				t.Fatal(err)
			}
			if id != ids[0] && id != ids[1] {
				t.Fatalf("round %d: the rendezvous accepted %s, not node 1 or 2", r+1, id)
			}
		}
		data := [2]string{"none", "none"}
		if r == 0 {
			data = [2]string{"send", "recv"}
			if c.upgrade != nil {
				data = [2]string{"upgrade-send", "upgrade-recv"}
			}
		}
		if err := peers[1].Send(fmt.Sprintf("accept %s %s", ids[0], data[1])); err != nil {
			t.Fatal(err)
		}
		if err := peers[0].Send(fmt.Sprintf("via %s %s", ids[1], data[0])); err != nil {
			t.Fatal(err)
		}
		var out [2][]string
		for i, p := range peers {
			line, err := p.Expect(ctx, introResult)
			if err != nil {
				t.Fatal(err)
			}
			out[i] = strings.Split(line, " ")
			if len(out[i]) < 6 || out[i][0] != "ok" {
				t.Fatalf("round %d: node %d: %q\nnode 2's output:\n%s", r+1, i+1, line, peers[1].Output())
			}
		}
		t.Logf("round %d: node 1 %v; node 2 %v", r+1, out[0], out[1])
		for i := range 2 {
			remote, err := netip.ParseAddrPort(out[i][2])
			if err != nil {
				t.Fatal(err)
			}
			check(r, i, remote, out[i][5] == "true")
			if out[i][3] != "true" {
				t.Errorf("round %d: node %d's session proves the wrong node id", r+1, i+1)
			}
			if out[i][4] != "0" {
				t.Errorf("round %d: node %d got %s extra sessions (want exactly one)", r+1, i+1, out[i][4])
			}
		}
		ms, err := strconv.ParseFloat(out[0][1], 64)
		if err != nil {
			t.Fatal(err)
		}
		times = append(times, ms)
		if r == 0 && c.upgrade != nil {
			c.upgrade.open()
			for i, p := range peers {
				line, err := p.Expect(ctx, introMoved)
				if err != nil {
					t.Fatal(err)
				}
				f := strings.Fields(line)
				if len(f) != 3 {
					t.Fatalf("node %d: moved line %q", i+1, line)
				}
				ms, _ := strconv.ParseFloat(f[0], 64)
				remote, err := netip.ParseAddrPort(f[1])
				if err != nil {
					t.Fatal(err)
				}
				c.upgrade.moved(i, remote, f[2] == "true", ms)
			}
		}
		if r == 0 {
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
			rate, err := peers[1].Expect(ctx, punchRate)
			if err != nil {
				t.Fatal(err)
			}
			goodput, _ = strconv.ParseFloat(rate, 64)
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
	return times, direct, goodput
}

// TestNetnsIntroduceChild is not a test: it is the body of the processes
// TestNetnsIntroduce runs in the namespaces, and returns at once unless
// STT_INTRO_ROLE is set.
func TestNetnsIntroduceChild(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	switch os.Getenv(envIntroRole) {
	case "":
		return
	case "rendezvous":
		rn, err := Listen(Config{Seed: testSeed, ListenAddr: os.Getenv(envIntroServer), Rendezvous: true})
		if err != nil {
			t.Fatal(err)
		}
		defer rn.Close()
		fmt.Printf("%s%v %v\n", introReady, rn.Addr(), rn.NodeID())
		for {
			s, err := rn.Accept(ctx)
			if err != nil {
				return // killed by the parent when done
			}
			fmt.Printf("%s%v\n", introHas, s.PeerNodeID())
		}
	case "peer":
		rounds, _ := strconv.Atoi(os.Getenv(envIntroRounds))
		in := bufio.NewScanner(os.Stdin)
		for range rounds {
			if err := introRound(ctx, in); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// introRound is one round of an introduced peer: a fresh node with a
// session to the rendezvous, one command run, closed at "next".
func introRound(ctx context.Context, in *bufio.Scanner) error {
	rAddr, rIDs, _ := strings.Cut(os.Getenv(envIntroServer), " ")
	rID, err := ParseNodeID(rIDs)
	if err != nil {
		return err
	}
	cfg := Config{Seed: testSeed, ListenAddr: os.Getenv(envIntroListen)}
	if u := os.Getenv(envIntroTURN); u != "" {
		ts, err := ParseTURNURL(u)
		if err != nil {
			return err
		}
		cfg.TURNServers = []TURNServer{ts}
	}
	n, err := Listen(cfg)
	if err != nil {
		return err
	}
	defer n.Close()
	if len(cfg.TURNServers) > 0 {
		// Allocate before registering with the rendezvous, so that the
		// relayed candidate is among those registered at once.
		actx, acancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := n.RelayedAddrs(actx)
		acancel()
		if err != nil {
			return err
		}
	}
	t0 := time.Now()
	sr, err := n.DialPeer(ctx, rAddr, rID)
	if err != nil {
		return err
	}
	fmt.Printf("%s%.3f\n", introDirect, float64(time.Since(t0).Microseconds())/1000)
	n.UseIntroducer(sr)
	fmt.Printf("%s%v\n", introID, n.NodeID())
	line, err := readLine(in)
	if err != nil {
		return err
	}
	var cmd, idStr, data string
	if _, err := fmt.Sscan(line, &cmd, &idStr, &data); err != nil {
		return fmt.Errorf("command %q: %v", line, err)
	}
	peerID, err := ParseNodeID(idStr)
	if err != nil {
		return err
	}
	dctx, dcancel := context.WithTimeout(ctx, 10*time.Second)
	defer dcancel()
	t0 = time.Now()
	var s *Session
	switch cmd {
	case "via":
		s, err = n.DialVia(dctx, peerID, sr)
	case "accept":
		s, err = n.Accept(dctx)
	default:
		return fmt.Errorf("command %q", line)
	}
	ms := float64(time.Since(t0).Microseconds()) / 1000
	if err != nil {
		st := n.Stats()
		fmt.Printf("%sfail %.3f - false 0 false %v; intro %v; turn %v\n", introResult, ms, err, introCounters(st.Sessions), st.TURN)
		return nil
	}
	// Exactly one session: nothing else reaches Accept for a while.
	extra := 0
	wctx, wcancel := context.WithTimeout(ctx, 300*time.Millisecond)
	for {
		if _, err := n.Accept(wctx); err != nil {
			break
		}
		extra++
	}
	wcancel()
	fmt.Printf("%sok %.3f %v %v %d %v\n", introResult, ms, s.RemoteAddr(), s.PeerNodeID() == peerID, extra, s.Relayed())
	if d, ok := strings.CutPrefix(data, "upgrade-"); ok {
		// Wait (up to 30 s) until the session leaves its first path.
		first, t1 := s.RemoteAddr(), time.Now()
		for s.RemoteAddr() == first && time.Since(t1) < 30*time.Second && s.Err() == nil {
			time.Sleep(5 * time.Millisecond)
		}
		fmt.Printf("%s%.1f %v %v\n", introMoved, float64(time.Since(t1).Microseconds())/1000, s.RemoteAddr(), s.Relayed())
		data = d
	}
	if err := punchData(ctx, s, data); err != nil {
		return err
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
