//go:build linux

package netnstest

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

// Mapping is how a NAT of a TwoNAT maps a private socket to public ports.
type Mapping int

const (
	// EndpointIndependent is nftables' plain "masquerade": the private
	// port is kept when free, so one private socket has one public
	// address for every destination (RFC 4787 endpoint-independent
	// mapping), and a peer can reach the address STUN reported.
	EndpointIndependent Mapping = iota
	// PerDestination is "masquerade random": every new destination gets a
	// random public port (address-and-port-dependent mapping), so the
	// address STUN reported is wrong for any other destination.
	PerDestination
)

func (m Mapping) String() string {
	if m == PerDestination {
		return "per-destination (masquerade random)"
	}
	return "endpoint-independent (masquerade)"
}

// TwoNATOptions selects the behaviour of each NAT of a TwoNAT.
type TwoNATOptions struct {
	// Mapping is each NAT's port mapping (index 0: NAT 1, 1: NAT 2).
	Mapping [2]Mapping
	// Firewall drops, in each NAT's input hook, new inbound traffic
	// addressed to the NAT itself, as a home router's WAN firewall does
	// (OpenWrt's default "input reject" on the wan zone). Without it an
	// unsolicited datagram to the NAT's public address is delivered to the
	// NAT's own (empty) UDP port and leaves a confirmed conntrack entry;
	// Linux then refuses to reuse that port pair for a later outbound
	// mapping (the tuple is taken), which changes the mapped port of a
	// hole-punching packet that leaves after the peer's first one arrived.
	// A dropped packet is never confirmed and leaves no entry.
	Firewall bool
	// FullCone makes NAT i (index 0: NAT 1) forward every new inbound UDP
	// datagram to its private host at the same port (a "DMZ host"), so
	// that anyone may send to a mapped port: endpoint-independent
	// filtering, the "full cone" of RFC 3489. Without it a NAT admits only
	// replies to the exact address and port a flow went to
	// (address-and-port-dependent filtering, conntrack's rule).
	FullCone [2]bool
}

// TwoNAT is five namespaces: two private hosts, each behind its own NAT
// namespace (nftables masquerade on its WAN veth), and a public namespace
// that routes between the two NATs and holds a public server address on
// its loopback:
//
//	private1 (10.200.0.2) - nat1 (10.200.0.1 | 198.18.1.1) -+
//	                                                         public (198.18.1.254, 198.18.2.254; server 198.18.0.1)
//	private2 (10.200.0.2) - nat2 (10.200.0.1 | 198.18.2.1) -+
//
// Both private hosts have the same private address, as two home networks
// would: neither can reach the other except through the NATs' public
// addresses. Its fields are read-only after SetupTwoNAT.
type TwoNAT struct {
	// NS holds the namespace names, indexed by TwoPrivate1 .. TwoPublic.
	NS [5]string
	// PrivateAddr is each private host's address (the same for both).
	PrivateAddr netip.Addr
	// NATPublicAddr is the public address of NAT 1 and NAT 2: the source
	// of everything their private host sends out.
	NATPublicAddr [2]netip.Addr
	// ServerAddr is the public namespace's server address (on its
	// loopback, routed from both NATs): bind STUN servers there.
	ServerAddr netip.Addr
	// Options are the options the topology was built with.
	Options TwoNATOptions

	ip string
}

// Indices of TwoNAT.NS.
const (
	TwoPrivate1 = 0
	TwoNAT1     = 1
	TwoPrivate2 = 2
	TwoNAT2     = 3
	TwoPublic   = 4
)

// SetupTwoNAT creates the five namespaces, or skips the test as SetupNAT
// does (not root, no ip or nft tool, no namespace support). t.Cleanup
// deletes every namespace (with them the veth pairs and the nftables
// rulesets, which live inside); children started with StartChild are
// stopped before, since cleanups run in reverse order.
func SetupTwoNAT(t testing.TB, opts TwoNATOptions) *TwoNAT {
	t.Helper()
	ipPath, nftPath := natTools(t)
	sweepStale(t, ipPath)
	base := nsBase(t)
	n := &TwoNAT{
		NS:            [5]string{base + "priv1", base + "nat1", base + "priv2", base + "nat2", base + "pub"},
		PrivateAddr:   netip.MustParseAddr("10.200.0.2"),
		NATPublicAddr: [2]netip.Addr{netip.MustParseAddr("198.18.1.1"), netip.MustParseAddr("198.18.2.1")},
		ServerAddr:    netip.MustParseAddr("198.18.0.1"),
		Options:       opts,
		ip:            ipPath,
	}
	addNamespaces(t, ipPath, n.NS[:], func() { n.delete(t) })
	pub := n.NS[TwoPublic]
	steps := [][]string{
		{ipPath, "-n", pub, "link", "set", "lo", "up"},
		{ipPath, "-n", pub, "addr", "add", n.ServerAddr.String() + "/32", "dev", "lo"},
		{ipPath, "netns", "exec", pub, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"},
	}
	for i := range 2 {
		priv, box := n.NS[2*i], n.NS[2*i+1]
		wan := fmt.Sprintf("198.18.%d.1/24", i+1)
		gw := fmt.Sprintf("198.18.%d.254", i+1)
		out := fmt.Sprintf("out%d", i+1)
		masq := "masquerade"
		if opts.Mapping[i] == PerDestination {
			masq = "masquerade random"
		}
		rules := "add table ip stt_nat; " +
			"add chain ip stt_nat post { type nat hook postrouting priority srcnat; }; " +
			"add rule ip stt_nat post oifname \"wan0\" " + masq + "; "
		if opts.FullCone[i] {
			rules += "add chain ip stt_nat pre { type nat hook prerouting priority dstnat; }; " +
				"add rule ip stt_nat pre iifname \"wan0\" meta l4proto udp dnat to 10.200.0.2; "
		}
		if opts.Firewall {
			rules += "add chain ip stt_nat in { type filter hook input priority filter; }; " +
				"add rule ip stt_nat in iifname \"wan0\" ct state new drop"
		}
		steps = append(steps,
			[]string{ipPath, "link", "add", "name", "in0", "netns", priv, "type", "veth", "peer", "name", "lan0", "netns", box},
			[]string{ipPath, "link", "add", "name", "wan0", "netns", box, "type", "veth", "peer", "name", out, "netns", pub},
			[]string{ipPath, "-n", priv, "addr", "add", "10.200.0.2/24", "dev", "in0"},
			[]string{ipPath, "-n", box, "addr", "add", "10.200.0.1/24", "dev", "lan0"},
			[]string{ipPath, "-n", box, "addr", "add", wan, "dev", "wan0"},
			[]string{ipPath, "-n", pub, "addr", "add", gw + "/24", "dev", out},
			[]string{ipPath, "-n", priv, "link", "set", "lo", "up"},
			[]string{ipPath, "-n", box, "link", "set", "lo", "up"},
			[]string{ipPath, "-n", priv, "link", "set", "in0", "up"},
			[]string{ipPath, "-n", box, "link", "set", "lan0", "up"},
			[]string{ipPath, "-n", box, "link", "set", "wan0", "up"},
			[]string{ipPath, "-n", pub, "link", "set", out, "up"},
			[]string{ipPath, "-n", priv, "route", "add", "default", "via", "10.200.0.1"},
			[]string{ipPath, "-n", box, "route", "add", "default", "via", gw},
			[]string{ipPath, "netns", "exec", box, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"},
			[]string{ipPath, "netns", "exec", box, nftPath, rules},
		)
	}
	for _, s := range steps {
		if out, err := run(s[0], s[1:]...); err != nil {
			t.Fatalf("netnstest: %s: %v: %s", strings.Join(s, " "), err, out)
		}
	}
	return n
}

// StartChild is Pair.StartChild in namespace i (TwoPrivate1 .. TwoPublic).
func (n *TwoNAT) StartChild(t testing.TB, ctx context.Context, name string, i int, testName string, env ...string) *Child {
	t.Helper()
	return (&Pair{NS: [2]string{n.NS[i], n.NS[i]}, ip: n.ip}).StartChild(t, ctx, name, 0, testName, env...)
}

// delete removes the namespaces and checks they are gone.
func (n *TwoNAT) delete(t testing.TB) { t.Helper(); deleteNamespaces(t, n.ip, n.NS[:]) }
