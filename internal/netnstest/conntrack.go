//go:build linux

package netnstest

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// ErrNoConntrack reports a NAT whose conntrack table cannot be read (a
// kernel without CONFIG_NF_CONNTRACK_PROCFS has no /proc/net/nf_conntrack).
var ErrNoConntrack = errors.New("netnstest: conntrack table unreadable")

// Flow is one conntrack entry of a UDP flow: its original direction (as
// the first packet was seen) and the reply direction the NAT expects.
// For a masqueraded flow, Reply.Dst is the public address and port the
// NAT mapped Orig.Src to.
type Flow struct {
	Orig, Reply struct{ Src, Dst netip.AddrPort }
	// Replied is false for an entry marked [UNREPLIED].
	Replied bool
}

// UDPFlows returns the UDP entries of the conntrack table of NAT i (0:
// NAT 1, 1: NAT 2), or ErrNoConntrack.
func (n *TwoNAT) UDPFlows(i int) ([]Flow, error) {
	out, err := run(n.ip, "netns", "exec", n.NS[2*i+1], "cat", "/proc/net/nf_conntrack")
	if err != nil {
		return nil, fmt.Errorf("%w: %v: %s", ErrNoConntrack, err, out)
	}
	return parseConntrack(out), nil
}

// MappedPort returns the public port NAT i mapped the UDP flow from its
// private host's port privPort to dst, and false when it has no such flow.
func (n *TwoNAT) MappedPort(i int, privPort uint16, dst netip.AddrPort) (uint16, bool, error) {
	flows, err := n.UDPFlows(i)
	if err != nil {
		return 0, false, err
	}
	src := netip.AddrPortFrom(n.PrivateAddr, privPort)
	for _, f := range flows {
		if f.Orig.Src == src && f.Orig.Dst == dst {
			return f.Reply.Dst.Port(), true, nil
		}
	}
	return 0, false, nil
}

// parseConntrack extracts the IPv4 and IPv6 UDP entries of a
// /proc/net/nf_conntrack listing, such as
//
//	ipv4 2 udp 17 29 src=10.0.0.2 dst=1.2.3.4 sport=5 dport=6 [UNREPLIED] src=1.2.3.4 dst=9.9.9.9 sport=6 dport=7 mark=0 zone=0 use=2
//
// Lines it cannot read whole are skipped.
func parseConntrack(table string) []Flow {
	var flows []Flow
	for line := range strings.Lines(table) {
		fields := strings.Fields(line)
		if len(fields) < 3 || fields[2] != "udp" {
			continue
		}
		var f Flow
		f.Replied = true
		var vals [2][4]string // per direction: src, dst, sport, dport
		dir, seen := 0, 0
		for _, fl := range fields[3:] {
			if fl == "[UNREPLIED]" {
				f.Replied = false
				continue
			}
			k, v, ok := strings.Cut(fl, "=")
			if !ok {
				continue
			}
			idx := slices.Index(tupleKeys, k)
			if idx < 0 || dir > 1 {
				continue
			}
			vals[dir][idx] = v
			seen++
			if seen == 4 {
				dir, seen = dir+1, 0
			}
		}
		if dir != 2 {
			continue
		}
		var ok [2]bool
		f.Orig.Src, f.Orig.Dst, ok[0] = addrPorts(vals[0])
		f.Reply.Src, f.Reply.Dst, ok[1] = addrPorts(vals[1])
		if ok[0] && ok[1] {
			flows = append(flows, f)
		}
	}
	return flows
}

// tupleKeys are the keys of one direction of a conntrack entry, in order.
var tupleKeys = []string{"src", "dst", "sport", "dport"}

// addrPorts builds the source and destination of one direction from its
// src, dst, sport and dport values.
func addrPorts(v [4]string) (src, dst netip.AddrPort, ok bool) {
	var a [2]netip.Addr
	var p [2]uint64
	for i := range 2 {
		var err1, err2 error
		a[i], err1 = netip.ParseAddr(v[i])
		p[i], err2 = strconv.ParseUint(v[2+i], 10, 16)
		if err1 != nil || err2 != nil {
			return src, dst, false
		}
	}
	return netip.AddrPortFrom(a[0], uint16(p[0])), netip.AddrPortFrom(a[1], uint16(p[1])), true
}
