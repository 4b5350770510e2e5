//go:build linux

package netnstest

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrNoConntrackTool reports that the conntrack tool (Debian package
// conntrack) is missing: the NAT fault helpers that change a NAT's
// conntrack table need it.
var ErrNoConntrackTool = errors.New("netnstest: the conntrack tool (package conntrack) was not found")

// Exec runs name with args inside namespace i of n (TwoPrivate1 ..
// TwoPublic), bounded in time, and returns its combined output.
func (n *TwoNAT) Exec(i int, name string, args ...string) (string, error) {
	out, err := run(n.ip, append([]string{"netns", "exec", n.NS[i], name}, args...)...)
	if err != nil {
		return out, fmt.Errorf("netnstest: %s in %s: %w: %s", name, n.NS[i], err, out)
	}
	return out, nil
}

// natNS returns the namespace index of NAT i (0: NAT 1, 1: NAT 2).
func natNS(i int) int { return 2*i + 1 }

// SetUDPTimeouts sets NAT i's conntrack UDP timeouts (sysctl
// net.netfilter.nf_conntrack_udp_timeout, for a flow seen in one
// direction, and _udp_timeout_stream, for one seen in both) to d, whole
// seconds, at least 1: a mapping then expires d after its last packet.
// The kernel reads them at every packet, so they apply to existing flows
// from their next packet on.
func (n *TwoNAT) SetUDPTimeouts(i int, d time.Duration) error {
	s := strconv.Itoa(max(1, int(d/time.Second)))
	_, err := n.Exec(natNS(i), "sysctl", "-q", "-w",
		"net.netfilter.nf_conntrack_udp_timeout="+s, "net.netfilter.nf_conntrack_udp_timeout_stream="+s)
	return err
}

// conntrack returns the conntrack tool's path or ErrNoConntrackTool.
func conntrack() (string, error) {
	p, err := lookTool("conntrack")
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNoConntrackTool, err)
	}
	return p, nil
}

// DeleteUDPFlows deletes from NAT i's conntrack table every UDP flow from
// its private host's port privPort (conntrack -D), as a NAT that reboots
// or drops the mapping does, and returns how many it deleted.
func (n *TwoNAT) DeleteUDPFlows(i int, privPort uint16) (int, error) {
	ct, err := conntrack()
	if err != nil {
		return 0, err
	}
	out, err := n.Exec(natNS(i), ct, "-D", "-p", "udp", "--orig-src", n.PrivateAddr.String(),
		"--orig-port-src", strconv.Itoa(int(privPort)))
	// conntrack -D exits 1 when nothing matched: the count decides.
	deleted := conntrackCount(out, "deleted")
	if deleted < 0 {
		return 0, fmt.Errorf("netnstest: conntrack -D: no count in its output (%v): %q", err, out)
	}
	return deleted, nil
}

// SetMasqueradePorts makes NAT i map new UDP flows to public ports lo..hi
// only (replacing its masquerade rule by "masquerade to :lo-hi"; flows
// mapped already keep their ports until they expire or are deleted), as a
// carrier-grade NAT that moves a subscriber to another port block does.
// With DeleteUDPFlows, a private socket's next datagram gets a new public
// port in that range, deterministically (plain masquerade would give it
// its old port back). The rule keeps the NAT's mapping policy
// (TwoNATOptions.Mapping).
func (n *TwoNAT) SetMasqueradePorts(i int, lo, hi uint16) error {
	if lo == 0 || hi < lo {
		return fmt.Errorf("netnstest: SetMasqueradePorts: bad range %d-%d", lo, hi)
	}
	nft, err := lookTool("nft")
	if err != nil {
		return err
	}
	flags := ""
	if n.Options.Mapping[i] == PerDestination {
		flags = " random"
	}
	// A port range needs a transport protocol match: UDP gets the block,
	// everything else the plain masquerade it had.
	_, err = n.Exec(natNS(i), nft, fmt.Sprintf("flush chain ip stt_nat post; "+
		"add rule ip stt_nat post oifname \"wan0\" meta l4proto udp masquerade to :%d-%d%s; "+
		"add rule ip stt_nat post oifname \"wan0\" masquerade%s", lo, hi, flags, flags))
	return err
}

// conntrackCount reads N from conntrack's summary "N flow entries have
// been <verb>.", or returns -1.
func conntrackCount(out, verb string) int {
	for l := range strings.Lines(out) {
		if f := strings.Fields(l); len(f) >= 2 && strings.HasSuffix(strings.TrimSpace(l), "have been "+verb+".") {
			for j, w := range f {
				if w == "flow" && j > 0 {
					if k, err := strconv.Atoi(f[j-1]); err == nil {
						return k
					}
				}
			}
		}
	}
	return -1
}
