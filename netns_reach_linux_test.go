//go:build linux

package stt

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sttgo/stt/internal/netnstest"
	"github.com/sttgo/stt/internal/stuntest"
)

// Environment and output lines of the children TestNetnsReflexive runs.
const (
	envReachRole   = "STT_REACH_ROLE"   // "stun" or "node"
	envReachAddrs  = "STT_REACH_ADDRS"  // stun: listen addresses; node: STUN servers (comma-separated)
	envReachBeats  = "STT_REACH_BEATS"  // node: keep-alive responses to wait for
	envReachListen = "STT_REACH_LISTEN" // node: address to bind
	reachReady     = "STT_REACH_READY " // stun: bound addresses
	reachReflexive = "STT_REACH_REFLEXIVE "
	reachKeepAlive = "STT_REACH_KEEPALIVE "
)

// TestNetnsReflexive: a node in a private namespace behind an nftables
// masquerade NAT asks pion/turn's STUN servers in a public namespace for
// its reflexive address on its data socket, and learns the NAT's public
// address, not its own; its keep-alives (every 100 ms here) keep getting
// answers through the NAT. With "masquerade random" the NAT maps the
// socket to a different port per destination, and the node reports one
// reflexive address per server. The namespaces are deleted afterwards.
func TestNetnsReflexive(t *testing.T) {
	for _, c := range []struct {
		name    string
		random  bool
		servers int
	}{
		{"masquerade", false, 1},
		{"masquerade-random", true, 2},
	} {
		t.Run(c.name, func(t *testing.T) { netnsReflexive(t, c.random, c.servers) })
	}
}

func netnsReflexive(t *testing.T, random bool, servers int) {
	n := netnstest.SetupNAT(t, random)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var listen []string
	for i := range servers {
		listen = append(listen, netip.AddrPortFrom(n.PublicAddr, uint16(3478+i)).String())
	}
	stun := n.StartChild(t, ctx, "STUN servers (public)", netnstest.NATPublic, "TestNetnsReachChild",
		envReachRole+"=stun", envReachAddrs+"="+strings.Join(listen, ","))
	srvAddrs, err := stun.Expect(ctx, reachReady)
	if err != nil {
		t.Fatal(err)
	}
	const beats = 5
	node := n.StartChild(t, ctx, "stt node (private)", netnstest.NATPrivate, "TestNetnsReachChild",
		envReachRole+"=node", envReachAddrs+"="+srvAddrs,
		envReachListen+"="+netip.AddrPortFrom(n.PrivateAddr, 0).String(), envReachBeats+"="+strconv.Itoa(beats))
	line, err := node.Expect(ctx, reachReflexive)
	if err != nil {
		t.Fatal(err)
	}
	local, refl, ok := strings.Cut(line, " ")
	la, err := netip.ParseAddrPort(local)
	if !ok || err != nil {
		t.Fatalf("node printed %q", line)
	}
	var ras []netip.AddrPort
	for _, s := range strings.Split(refl, ",") {
		ra, err := netip.ParseAddrPort(s)
		if err != nil {
			t.Fatalf("node printed %q: %v", line, err)
		}
		ras = append(ras, ra)
	}
	t.Logf("node's socket %v, reflexive addresses %v", la, ras)
	if la.Addr() != n.PrivateAddr {
		t.Errorf("node bound %v, want its private address %v", la, n.PrivateAddr)
	}
	if len(ras) != servers {
		// With one port per destination each server sees its own port
		// (two random ports collide with a probability of about 1/30000).
		t.Errorf("%d distinct reflexive addresses, want %d", len(ras), servers)
	}
	for _, ra := range ras {
		if ra.Addr() != n.NATPublicAddr {
			t.Errorf("reflexive address %v, want the NAT's public address %v (not the node's own %v)", ra, n.NATPublicAddr, la)
		}
	}
	ka, err := node.Expect(ctx, reachKeepAlive)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("node: %s", ka)
	if err := node.Wait(); err != nil {
		t.Error(err)
	}
}

// TestNetnsReachChild is not a test: it is the body of the processes
// TestNetnsReflexive runs in the namespaces, and returns at once unless
// STT_REACH_ROLE is set.
func TestNetnsReachChild(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	addrs := strings.Split(os.Getenv(envReachAddrs), ",")
	switch os.Getenv(envReachRole) {
	case "":
		return
	case "stun":
		var bound []string
		for _, a := range addrs {
			srv, err := stuntest.Listen(a)
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			bound = append(bound, srv.Addr().String())
		}
		fmt.Println(reachReady + strings.Join(bound, ","))
		<-ctx.Done() // killed by the parent when done
	case "node":
		beats, _ := strconv.Atoi(os.Getenv(envReachBeats))
		n, err := Listen(Config{Seed: testSeed, ListenAddr: os.Getenv(envReachListen),
			STUNServers: addrs, NATKeepAlive: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		defer n.Close()
		refl, err := n.ReflexiveAddrs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var rs []string
		for _, r := range refl {
			rs = append(rs, r.String())
		}
		fmt.Printf("%s%v %s\n", reachReflexive, n.Addr(), strings.Join(rs, ","))
		// Keep-alives: beats more answered Binding requests per server.
		want := uint64(len(addrs) * (beats + 1))
		for n.Stats().STUN["responses"] < want {
			if ctx.Err() != nil {
				t.Fatalf("keep-alives: %v", n.Stats().STUN)
			}
			time.Sleep(20 * time.Millisecond)
		}
		st := n.Stats()
		var b strings.Builder
		for _, k := range []string{"requests", "responses", "retransmits", "timeouts", "unmatched", "mapping_changes"} {
			fmt.Fprintf(&b, "%s=%d ", k, st.STUN[k])
		}
		fmt.Printf("%s%s\n", reachKeepAlive, b.String())
		if st.STUN["mapping_changes"] != 0 || st.STUN["timeouts"] != 0 {
			t.Fatalf("keep-alive through the NAT: %v", st.STUN)
		}
	}
}
