package handshake

import (
	"net/netip"
	"testing"
)

func TestPrefixesOf(t *testing.T) {
	for _, c := range []struct {
		addr         string
		v4bits       int
		narrow, wide string
	}{
		{"192.0.2.77", 24, "192.0.2.0/24", "192.0.2.0/24"},
		{"192.0.2.77", 32, "192.0.2.77/32", "192.0.2.77/32"},
		{"192.0.2.77", 20, "192.0.0.0/20", "192.0.0.0/20"},
		{"::ffff:192.0.2.77", 24, "192.0.2.0/24", "192.0.2.0/24"},
		{"2001:db8:1:2:3:4:5:6", 24, "2001:db8:1:2::/64", "2001:db8:1::/56"},
		{"2001:db8:1:2ff:3:4:5:6", 24, "2001:db8:1:2ff::/64", "2001:db8:1:200::/56"},
		{"fe80::1%eth0", 24, "fe80::/64", "fe80::/56"},
		{"::1", 24, "::/64", "::/56"},
	} {
		n, w := prefixesOf(netip.MustParseAddr(c.addr), c.v4bits)
		if n.String() != c.narrow || w.String() != c.wide {
			t.Errorf("%s /%d: %v %v, want %s %s", c.addr, c.v4bits, n, w, c.narrow, c.wide)
		}
	}
	// Addresses of one prefix share a key; a neighbour prefix does not.
	a, _ := prefixesOf(netip.MustParseAddr("2001:db8::1"), 24)
	b, _ := prefixesOf(netip.MustParseAddr("2001:db8::ffff:1"), 24)
	c, _ := prefixesOf(netip.MustParseAddr("2001:db8:0:1::1"), 24)
	if a != b || a == c {
		t.Fatal("IPv6 /64 keys")
	}
	if allocs := testing.AllocsPerRun(100, func() { prefixesOf(netip.MustParseAddr("2001:db8::1"), 24) }); allocs != 0 {
		t.Fatalf("prefixesOf allocates %v", allocs)
	}
}
