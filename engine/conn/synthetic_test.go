package conn

import (
	"net/netip"
	"testing"
)

// TestSynthetic: a block contains its own addresses (any port), not
// another block's (another subnet id, or the same subnet id with another
// random global id), nor IPv4 or IPv4-mapped addresses.
func TestSynthetic(t *testing.T) {
	a, b, c := NewSynthetic(0x7475, 3478), NewSynthetic(0x7773, 443), NewSynthetic(0x7475, 3478)
	x := a.Addr(7)
	if !a.Contains(x) || !a.Contains(netip.AddrPortFrom(x.Addr(), 1)) || x.Port() != 3478 || x.Addr().As16()[0] != 0xfd {
		t.Fatalf("a does not hold its own address %v", x)
	}
	if a.Addr(7) != x || a.Addr(8) == x {
		t.Fatal("Addr is not a function of the sequence number")
	}
	if b.Contains(x) || c.Contains(x) {
		t.Fatalf("another block claims %v", x)
	}
	for _, s := range []string{"192.0.2.1:3478", "[::ffff:192.0.2.1]:3478", "[2001:db8::1]:3478"} {
		if a.Contains(netip.MustParseAddrPort(s)) {
			t.Fatalf("a claims %s", s)
		}
	}
}
