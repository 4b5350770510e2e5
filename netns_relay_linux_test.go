//go:build linux

package stt

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/sttgo/stt/internal/netnstest"
)

// TestNetnsRelay: the TestNetnsIntroduce topology (a rendezvous in the
// public namespace, nodes 1 and 2 behind their own nftables NATs with a
// router's input firewall) with coturn (Debian's turnserver) in the
// public namespace, in four cases:
//
//   - both NATs per-destination, node 1 (the requester) has the TURN
//     server: no direct path exists, the session runs through node 1's
//     relay;
//   - both per-destination, node 2 (the target) has it: its relayed
//     candidate reaches node 1 through the rendezvous (INTRO_REGISTER);
//   - NAT 1 endpoint-independent, NAT 2 per-destination, node 1 has it
//     (one of each: no direct path through conntrack's filtering);
//   - both endpoint-independent, both have it: the direct path wins
//     (relayed candidates wait RelayDelay), and nothing is relayed.
//
// Each round asserts which path the session took on both sides: relayed
// sessions run, on the relay owner, to a synthetic address of its TURN
// Mux and, on the other node, to coturn's relayed address; direct ones
// to the other NAT's public address. The first round of each case moves
// 16 MiB over a stream, SHA-256-checked on both sides; time to connect and
// goodput are logged.
func TestNetnsRelay(t *testing.T) {
	eim, pd := netnstest.EndpointIndependent, netnstest.PerDestination
	var relayedRate, directRate float64
	t.Run("relayed, then a direct path appears", func(t *testing.T) { relayThenDirect(t) })
	for _, c := range []struct {
		name    string
		mapping [2]netnstest.Mapping
		turn    [2]bool
		relayed bool
		rounds  int
	}{
		{"per-destination both, requester relays", [2]netnstest.Mapping{pd, pd}, [2]bool{true, false}, true, 10},
		{"per-destination both, target relays", [2]netnstest.Mapping{pd, pd}, [2]bool{false, true}, true, 3},
		{"one of each, requester relays", [2]netnstest.Mapping{eim, pd}, [2]bool{true, false}, true, 3},
		{"endpoint-independent both, both relay", [2]netnstest.Mapping{eim, eim}, [2]bool{true, true}, false, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := netnstest.SetupTwoNAT(t, netnstest.TwoNATOptions{Mapping: c.mapping, Firewall: true})
			ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
			defer cancel()
			turn := n.StartCoturn(t, ctx)
			var ic introCase
			ic.rounds = c.rounds
			for i, on := range c.turn {
				if on {
					ic.env[i] = []string{envIntroTURN + "=" + turn.URL()}
				}
			}
			times, direct, goodput := introduceRounds(t, ctx, n, ic, func(r, i int, remote netip.AddrPort, relayed bool) {
				switch {
				case !c.relayed:
					if relayed || remote.Addr() != n.NATPublicAddr[1-i] {
						t.Errorf("round %d: node %d's session runs to %v (relayed %v), want NAT %d's address %v (direct)", r+1, i+1, remote, relayed, 2-i, n.NATPublicAddr[1-i])
					}
				case !relayed:
					t.Errorf("round %d: node %d's session to %v is not relayed", r+1, i+1, remote)
				case c.turn[i]:
					// The relay owner reaches the peer through its TURN
					// Mux: a synthetic unique local address.
					if !remote.Addr().Is6() || remote.Addr().As16()[0] != 0xfd {
						t.Errorf("round %d: node %d (relay owner) runs to %v, want a synthetic fd00::/8 address", r+1, i+1, remote)
					}
				default:
					if remote.Addr() != turn.Addr.Addr() {
						t.Errorf("round %d: node %d runs to %v, want coturn's relayed address on %v", r+1, i+1, remote, turn.Addr.Addr())
					}
				}
			})
			if t.Failed() {
				t.Logf("coturn's log:\n%s", turn.Log())
			}
			t.Logf("%d rounds: DialVia %s; Dial to the public rendezvous %s; 16 MiB stream goodput at the receiver %.1f MB/s",
				len(times), msStats(times), msStats(direct), goodput)
			if c.relayed && relayedRate == 0 {
				relayedRate = goodput
			} else if !c.relayed {
				directRate = goodput
			}
		})
	}
	if relayedRate > 0 && directRate > 0 {
		t.Logf("goodput through coturn %.1f MB/s, direct %.1f MB/s: relayed/direct %.2f (same run, same veth links; one 16 MiB stream each)",
			relayedRate, directRate, relayedRate/directRate)
	}
}

// relayThenDirect: both NATs endpoint-independent, node 1 with coturn,
// and the public namespace dropping every datagram between the two NATs'
// public addresses: the introduction can only make a relayed session. Once
// both sides have it, the drop rule goes (a direct path appears): the
// session moves to it on both sides (direct upgrade: probes of the
// direct candidates, then path validation), keeps its keys, and moves
// 16 MiB intact (SHA-256) directly.
func relayThenDirect(t *testing.T) {
	n := netnstest.SetupTwoNAT(t, netnstest.TwoNATOptions{Firewall: true})
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	turn := n.StartCoturn(t, ctx)
	a, b := n.NATPublicAddr[0].String(), n.NATPublicAddr[1].String()
	block := "add table ip stt_block; add chain ip stt_block block { type filter hook forward priority filter; }; " +
		"add rule ip stt_block block ip saddr " + a + " ip daddr " + b + " drop; " +
		"add rule ip stt_block block ip saddr " + b + " ip daddr " + a + " drop"
	if out, err := n.Exec(netnstest.TwoPublic, "nft", block); err != nil {
		t.Fatalf("block the direct path: %v: %s", err, out)
	}
	var ic introCase
	ic.rounds = 1
	ic.env[0] = []string{envIntroTURN + "=" + turn.URL()}
	ic.upgrade = &introUpgrade{
		open: func() {
			if out, err := n.Exec(netnstest.TwoPublic, "nft", "delete table ip stt_block"); err != nil {
				t.Fatalf("open the direct path: %v: %s", err, out)
			}
		},
		moved: func(i int, remote netip.AddrPort, relayed bool, ms float64) {
			if relayed || remote.Addr() != n.NATPublicAddr[1-i] {
				t.Errorf("node %d: after the direct path appeared the session runs to %v (relayed %v), want NAT %d's address", i+1, remote, relayed, 2-i)
			}
			t.Logf("node %d: moved to %v %.1f ms after the direct path appeared", i+1, remote, ms)
		},
	}
	introduceRounds(t, ctx, n, ic, func(r, i int, remote netip.AddrPort, relayed bool) {
		if !relayed {
			t.Errorf("node %d: with the direct path blocked the session runs to %v, not relayed", i+1, remote)
		}
	})
}
