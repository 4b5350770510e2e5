package handshake

import (
	"net/netip"
	"testing"
	"time"
)

func TestProvenSet(t *testing.T) {
	p := newProvenSet(3)
	a := func(i int) netip.AddrPort {
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), 4000)
	}
	for i := range 5 {
		p.add(a(i), t0)
	}
	if p.Len() != 3 || p.has(a(0), t0) || p.has(a(1), t0) || !p.has(a(4), t0) {
		t.Fatalf("bounded FIFO: len %d", p.Len())
	}
	if p.has(a(4), t0.Add(ProvenTTL)) || !p.has(a(4), t0.Add(ProvenTTL-time.Second)) {
		t.Fatal("TTL")
	}
	if p.has(netip.AddrPortFrom(a(4).Addr(), 4001), t0) {
		t.Fatal("another port of a proven address is not proven")
	}
	p.add(a(2), t0.Add(time.Hour)) // refresh keeps its place
	if !p.has(a(2), t0.Add(time.Hour)) || p.Len() != 3 {
		t.Fatal("refresh")
	}
}
