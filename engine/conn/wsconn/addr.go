package wsconn

import (
	"crypto/rand"
	"encoding/binary"
	"net/netip"
)

// Synthetic addresses. The engine and the session layer know peers only
// by netip.AddrPort, so every WebSocket connection gets one: an IPv6
// address in a unique local prefix (RFC 4193, fd00::/8) that the Mux
// draws at random when it starts (a 40-bit global id), with the subnet id
// 0x7773 ("ws"), the connection's sequence number (from 1, never reused
// while the Mux lives) as interface id, and port addrPort.
//
// Such an address cannot collide with a UDP peer: the prefix is random per
// Mux (a real network using the same 48-bit ULA prefix is a 2^-40 chance),
// and, to make that certain, the Mux drops every UDP datagram whose source
// lies in its prefix (Stats.SpoofedDropped) so that a datagram can never
// be mistaken for one of a WebSocket connection.
const (
	addrSubnet = 0x7773
	addrPort   = 443
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

// addr returns the synthetic address of connection number seq.
func (p *prefix) addr(seq uint64) netip.AddrPort {
	var a [16]byte
	copy(a[:8], p[:])
	binary.BigEndian.PutUint64(a[8:], seq)
	return netip.AddrPortFrom(netip.AddrFrom16(a), addrPort)
}

// contains reports whether a is one of p's synthetic addresses (any port:
// a UDP datagram from the prefix is refused whatever its port).
func (p *prefix) contains(a netip.AddrPort) bool {
	ip := a.Addr()
	if !ip.Is6() || ip.Is4In6() {
		return false
	}
	b := ip.As16()
	return binary.BigEndian.Uint64(b[:8]) == binary.BigEndian.Uint64(p[:])
}
