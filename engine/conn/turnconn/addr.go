package turnconn

import (
	"crypto/rand"
	"encoding/binary"
	"net/netip"
)

// Synthetic addresses. The engine and the session layer know peers only by
// netip.AddrPort, so every (allocation, peer) pair the Mux relays gets one:
// an IPv6 address in a unique local prefix (RFC 4193, fd00::/8) that the
// Mux draws at random when it starts (a 40-bit global id), with the subnet
// id 0x7475 ("tu"), a sequence number (from 1, never reused while the Mux
// lives) as interface id, and port addrPort. This is the scheme of package
// wsconn with another subnet id, so the two never claim each other's
// addresses (wsconn compares the whole 64-bit prefix).
//
// Such an address cannot collide with a UDP peer: the prefix is random per
// Mux, and the Mux drops every UDP datagram whose source lies in it
// (Stats.SpoofedDropped).
const (
	addrSubnet = 0x7475
	addrPort   = 3478
)

// prefix is the first 8 bytes of a Mux's synthetic addresses.
type prefix [8]byte

func newPrefix() prefix {
	var p prefix
	_, _ = rand.Read(p[1:6]) // crypto/rand.Read never fails (Go 1.24+)
	p[0] = 0xfd
	binary.BigEndian.PutUint16(p[6:], addrSubnet)
	return p
}

// addr returns the synthetic address number seq.
func (p *prefix) addr(seq uint64) netip.AddrPort {
	var a [16]byte
	copy(a[:8], p[:])
	binary.BigEndian.PutUint64(a[8:], seq)
	return netip.AddrPortFrom(netip.AddrFrom16(a), addrPort)
}

// contains reports whether a lies in p (any port: a UDP datagram from the
// prefix is refused whatever its port).
func (p *prefix) contains(a netip.AddrPort) bool {
	ip := a.Addr()
	if !ip.Is6() || ip.Is4In6() {
		return false
	}
	b := ip.As16()
	return binary.BigEndian.Uint64(b[:8]) == binary.BigEndian.Uint64(p[:])
}
