//go:build linux

package netnstest

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"
)

// NAT is three namespaces in a row: Private (index 0) behind a NAT
// namespace (index 1) that masquerades (nftables) what Private sends out
// to Public (index 2). Public has no route to the private network: it sees
// only the NAT's public address. Its fields are read-only after SetupNAT.
type NAT struct {
	// NS holds the namespace names: private, nat, public.
	NS [3]string
	// PrivateAddr is the private host's address (10.200.0.2).
	PrivateAddr netip.Addr
	// NATPublicAddr is the NAT's address on the public side (198.18.1.1):
	// the source of everything Private sends to Public.
	NATPublicAddr netip.Addr
	// PublicAddr is the public host's address (198.18.1.2).
	PublicAddr netip.Addr

	ip string
}

// Indices of NAT.NS.
const (
	NATPrivate = 0
	NATBox     = 1
	NATPublic  = 2
)

// SetupNAT creates the three namespaces, or skips the test as Setup does
// (not root, no ip or nft tool, no namespace support). With random, the
// masquerade picks random source ports ("masquerade random"), so that the
// mapping differs per destination. t.Cleanup deletes every namespace (and
// with them the veth pairs and the nftables ruleset, which live inside).
func SetupNAT(t testing.TB, random bool) *NAT {
	t.Helper()
	ipPath, nftPath := natTools(t)
	sweepStale(t, ipPath)
	base := nsBase(t)
	n := &NAT{
		NS:            [3]string{base + "priv", base + "nat", base + "pub"},
		PrivateAddr:   netip.MustParseAddr("10.200.0.2"),
		NATPublicAddr: netip.MustParseAddr("198.18.1.1"),
		PublicAddr:    netip.MustParseAddr("198.18.1.2"),
		ip:            ipPath,
	}
	addNamespaces(t, ipPath, n.NS[:], func() { n.delete(t) })
	priv, box, pub := n.NS[0], n.NS[1], n.NS[2]
	masq := "masquerade"
	if random {
		masq = "masquerade random"
	}
	steps := [][]string{
		{ipPath, "link", "add", "name", "in0", "netns", priv, "type", "veth", "peer", "name", "lan0", "netns", box},
		{ipPath, "link", "add", "name", "wan0", "netns", box, "type", "veth", "peer", "name", "out0", "netns", pub},
		{ipPath, "-n", priv, "addr", "add", "10.200.0.2/24", "dev", "in0"},
		{ipPath, "-n", box, "addr", "add", "10.200.0.1/24", "dev", "lan0"},
		{ipPath, "-n", box, "addr", "add", "198.18.1.1/24", "dev", "wan0"},
		{ipPath, "-n", pub, "addr", "add", "198.18.1.2/24", "dev", "out0"},
		{ipPath, "-n", priv, "link", "set", "lo", "up"},
		{ipPath, "-n", box, "link", "set", "lo", "up"},
		{ipPath, "-n", pub, "link", "set", "lo", "up"},
		{ipPath, "-n", priv, "link", "set", "in0", "up"},
		{ipPath, "-n", box, "link", "set", "lan0", "up"},
		{ipPath, "-n", box, "link", "set", "wan0", "up"},
		{ipPath, "-n", pub, "link", "set", "out0", "up"},
		{ipPath, "-n", priv, "route", "add", "default", "via", "10.200.0.1"},
		{ipPath, "netns", "exec", box, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"},
		{ipPath, "netns", "exec", box, nftPath, "add table ip stt_nat; " +
			"add chain ip stt_nat post { type nat hook postrouting priority srcnat; }; " +
			"add rule ip stt_nat post oifname \"wan0\" " + masq},
	}
	for _, s := range steps {
		if out, err := run(s[0], s[1:]...); err != nil {
			t.Fatalf("netnstest: %s: %v: %s", strings.Join(s, " "), err, out)
		}
	}
	return n
}

// natSkip skips the test (or fails it under EnvRequire=1) with a message
// naming what a NAT topology lacks.
func natSkip(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := "netnstest: " + fmt.Sprintf(format, args...) + "; skipping network-namespace NAT test"
	if os.Getenv(EnvRequire) == "1" {
		t.Fatal(msg + " (" + EnvRequire + "=1 makes this a failure)")
	}
	t.Skip(msg)
}

// natTools returns the ip and nft tools, or skips the test when the
// process is not root or one of them is missing.
func natTools(t testing.TB) (ipPath, nftPath string) {
	t.Helper()
	skipRequested(t)
	if uid := os.Geteuid(); uid != 0 {
		natSkip(t, "not running as root (euid %d)", uid)
	}
	ipPath, err := lookTool("ip")
	if err != nil {
		natSkip(t, "the ip tool (iproute2) was not found: %v", err)
	}
	nftPath, err = lookTool("nft")
	if err != nil {
		natSkip(t, "the nft tool (nftables) was not found: %v", err)
	}
	return ipPath, nftPath
}

// addNamespaces creates the namespaces names and registers del (which
// deletes them) with t.Cleanup; if one cannot be created, it deletes
// those made so far and skips the test.
func addNamespaces(t testing.TB, ipPath string, names []string, del func()) {
	t.Helper()
	for _, ns := range names {
		if out, err := run(ipPath, "netns", "add", ns); err != nil {
			del()
			natSkip(t, "cannot create a network namespace (ip netns add: %v: %s)", err, out)
		}
	}
	t.Cleanup(del)
}

// pair views namespace i of n as a Pair, to reuse its child helpers.
func (n *NAT) pair(i int) *Pair {
	return &Pair{NS: [2]string{n.NS[i], n.NS[i]}, ip: n.ip}
}

// StartChild is Pair.StartChild in namespace i (NATPrivate, NATBox,
// NATPublic).
func (n *NAT) StartChild(t testing.TB, ctx context.Context, name string, i int, testName string, env ...string) *Child {
	t.Helper()
	return n.pair(i).StartChild(t, ctx, name, 0, testName, env...)
}

// delete removes the namespaces and checks they are gone.
func (n *NAT) delete(t testing.TB) { t.Helper(); deleteNamespaces(t, n.ip, n.NS[:]) }

// deleteNamespaces removes the namespaces names (skipping empty and
// absent ones) and checks they are gone.
func deleteNamespaces(t testing.TB, ipPath string, names []string) {
	t.Helper()
	for _, ns := range names {
		if ns == "" || !nsExists(ns) {
			continue
		}
		if out, err := run(ipPath, "netns", "del", ns); err != nil {
			t.Errorf("netnstest: ip netns del %s: %v: %s", ns, err, out)
		}
		if nsExists(ns) {
			t.Errorf("netnstest: namespace %s still exists after deletion", ns)
		}
	}
}
