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
	envReachAddr   = "STT_REACH_ADDR"   // stun: listen address; node: STUN server
	envReachBeats  = "STT_REACH_BEATS"  // node: keep-alive responses to wait for
	envReachListen = "STT_REACH_LISTEN" // node: address to bind
	reachReady     = "STT_REACH_READY " // stun: bound address
	reachReflexive = "STT_REACH_REFLEXIVE "
	reachKeepAlive = "STT_REACH_KEEPALIVE "
)

// TestNetnsReflexive: a node in a private namespace behind an nftables
// masquerade NAT asks pion/turn's STUN server in a public namespace for
// its reflexive address on its data socket, and learns the NAT's public
// address, not its own; its keep-alives (every 100 ms here) keep getting
// answers through the NAT. The namespaces are deleted afterwards.
func TestNetnsReflexive(t *testing.T) {
	n := netnstest.SetupNAT(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	stun := n.StartChild(t, ctx, "STUN server (public)", netnstest.NATPublic, "TestNetnsReachChild",
		envReachRole+"=stun", envReachAddr+"="+netip.AddrPortFrom(n.PublicAddr, 3478).String())
	srvAddr, err := stun.Expect(ctx, reachReady)
	if err != nil {
		t.Fatal(err)
	}
	const beats = 5
	node := n.StartChild(t, ctx, "stt node (private)", netnstest.NATPrivate, "TestNetnsReachChild",
		envReachRole+"=node", envReachAddr+"="+srvAddr, envReachListen+"="+netip.AddrPortFrom(n.PrivateAddr, 0).String(), envReachBeats+"="+strconv.Itoa(beats))
	line, err := node.Expect(ctx, reachReflexive)
	if err != nil {
		t.Fatal(err)
	}
	var local, reflexive string
	if _, err := fmt.Sscanf(line, "local=%s reflexive=%s", &local, &reflexive); err != nil {
		t.Fatalf("node printed %q: %v", line, err)
	}
	la, err1 := netip.ParseAddrPort(local)
	ra, err2 := netip.ParseAddrPort(reflexive)
	if err1 != nil || err2 != nil {
		t.Fatalf("node printed %q", line)
	}
	t.Logf("node's socket %v, reflexive address %v", la, ra)
	if la.Addr() != n.PrivateAddr {
		t.Errorf("node bound %v, want its private address %v", la, n.PrivateAddr)
	}
	if ra.Addr() != n.NATPublicAddr {
		t.Errorf("reflexive address %v, want the NAT's public address %v (not the node's own %v)", ra, n.NATPublicAddr, la)
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
	switch os.Getenv(envReachRole) {
	case "":
		return
	case "stun":
		srv, err := stuntest.Listen(os.Getenv(envReachAddr))
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		fmt.Println(reachReady + srv.Addr().String())
		<-ctx.Done() // killed by the parent when done
	case "node":
		beats, _ := strconv.Atoi(os.Getenv(envReachBeats))
		n, err := Listen(Config{Seed: testSeed, ListenAddr: os.Getenv(envReachListen),
			STUNServers: []string{os.Getenv(envReachAddr)}, NATKeepAlive: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		defer n.Close()
		addrs, err := n.ReflexiveAddrs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("%slocal=%v reflexive=%v\n", reachReflexive, n.Addr(), addrs[0])
		for n.Stats().STUN["responses"] < uint64(beats) {
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
