package conn

import (
	"crypto/rand"
	"encoding/binary"
	"net/netip"
)

// Synthetic is a block of synthetic peer addresses. The engine and the
// session layer know peers only by netip.AddrPort, so a [Batch] wrapper
// that carries datagrams over something else (a WebSocket connection, a
// TURN relay) gives each such peer one: an IPv6 address in a unique local
// prefix (RFC 4193, fd00::/8) drawn at random when the wrapper starts (a
// 40-bit global id), with the wrapper's subnet id, a sequence number as
// interface id, and the wrapper's port.
//
// Such an address cannot collide with a UDP peer: the prefix is random per
// wrapper (a real network using the same 48-bit prefix is a 2^-40 chance),
// and, to make that certain, the wrapper drops every UDP datagram whose
// source lies in its prefix. Two wrappers with different subnet ids never
// claim each other's addresses (Contains compares the whole 64-bit prefix).
type Synthetic struct {
	prefix [8]byte
	port   uint16
}

// NewSynthetic returns a block with a random global id, the subnet id
// subnet and port port.
func NewSynthetic(subnet, port uint16) Synthetic {
	var s Synthetic
	_, _ = rand.Read(s.prefix[1:6]) // crypto/rand.Read never fails (Go 1.24+)
	s.prefix[0] = 0xfd
	binary.BigEndian.PutUint16(s.prefix[6:], subnet)
	s.port = port
	return s
}

// Addr returns the synthetic address number seq.
func (s *Synthetic) Addr(seq uint64) netip.AddrPort {
	var a [16]byte
	copy(a[:8], s.prefix[:])
	binary.BigEndian.PutUint64(a[8:], seq)
	return netip.AddrPortFrom(netip.AddrFrom16(a), s.port)
}

// Contains reports whether a lies in the block's prefix (any port: a UDP
// datagram from the prefix is refused whatever its port).
func (s *Synthetic) Contains(a netip.AddrPort) bool {
	ip := a.Addr()
	if !ip.Is6() || ip.Is4In6() {
		return false
	}
	b := ip.As16()
	return binary.BigEndian.Uint64(b[:8]) == binary.BigEndian.Uint64(s.prefix[:])
}
