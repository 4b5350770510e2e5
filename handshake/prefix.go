package handshake

import "net/netip"

// Network prefixes that the responder's limits and budgets count by. A
// source address is counted in two prefixes, a narrow one and a wide one
// that contains it: for IPv6 its /64 (one subnet, what one host or one
// customer usually gets) and its /56 (what a customer gets from many
// providers); for IPv4 its /24 by default (Config.IPv4PrefixLen), and the
// wide prefix is the same one.
//
// Why /24 and not /32 for IPv4: an attacker who rents addresses gets them
// in blocks, and a loopback or container host answers on every address of
// its /8; counting whole addresses let 160 addresses of one /24 take 160
// shares. The price is that honest hosts in one /24 (a campus, a cloud
// subnet) share one prefix's limits: the half-open table evicts within a
// prefix oldest-first, so they still get in, and the work budget keeps a
// reserve for sources of the prefix that have not spent work recently. A
// deployment whose peers sit in a few /24s behind NATs of their own can
// set IPv4PrefixLen to 32 (whole addresses; an attacker with a /24 then has
// 256 shares).
const (
	// DefaultIPv4PrefixLen is the default IPv4 prefix length (/24).
	DefaultIPv4PrefixLen = 24
	// IPv6PrefixLen is the narrow IPv6 prefix (/64).
	IPv6PrefixLen = 64
	// IPv6WidePrefixLen is the wide IPv6 prefix (/56); it gets
	// WidePrefixFactor times the narrow prefix's limits and budget.
	IPv6WidePrefixLen = 56
	// WidePrefixFactor scales the narrow prefix's limits to the wide one.
	WidePrefixFactor = 4
)

// prefixKey is a masked address and its length in the 128-bit space
// (IPv4 as ::ffff:a.b.c.d, so IPv4 /24 is 120). It is comparable, holds no
// pointer and hashes as 17 bytes.
type prefixKey struct {
	addr [16]byte
	bits uint8
}

// prefixesOf returns the narrow and wide prefixes of a (wide == narrow for
// IPv4). The zone is ignored and IPv4-mapped IPv6 counts as IPv4. v4bits
// must be in 8..32.
func prefixesOf(a netip.Addr, v4bits int) (narrow, wide prefixKey) {
	a = a.Unmap()
	b := a.As16()
	if a.Is4() {
		narrow = maskPrefix(b, 96+v4bits)
		return narrow, narrow
	}
	return maskPrefix(b, IPv6PrefixLen), maskPrefix(b, IPv6WidePrefixLen)
}

func maskPrefix(b [16]byte, bits int) prefixKey {
	for i := range b {
		switch rest := bits - 8*i; {
		case rest >= 8:
		case rest <= 0:
			b[i] = 0
		default:
			b[i] &= ^byte(0xff >> rest)
		}
	}
	return prefixKey{addr: b, bits: uint8(bits)}
}

// String returns the prefix in CIDR notation (for tests and messages).
func (k prefixKey) String() string {
	a := netip.AddrFrom16(k.addr)
	bits := int(k.bits)
	if a.Is4In6() {
		a, bits = a.Unmap(), bits-96
	}
	return netip.PrefixFrom(a, bits).String()
}
