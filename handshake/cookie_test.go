package handshake

import (
	"net/netip"
	"testing"
	"time"
)

func TestCookieExpiryAndBinding(t *testing.T) {
	c, err := NewCookies(newRand(1))
	if err != nil {
		t.Fatal(err)
	}
	a := netip.MustParseAddrPort("198.51.100.7:1234")
	k := c.Make(a, t0)
	for _, d := range []time.Duration{0, time.Second, CookieSlot - time.Second, CookieSlot, 2*CookieSlot - time.Second} {
		if !c.Valid(&k, a, t0.Add(d)) {
			t.Fatalf("cookie invalid after %v", d)
		}
	}
	for _, d := range []time.Duration{2 * CookieSlot, 10 * CookieSlot, -time.Second, -CookieSlot} {
		if c.Valid(&k, a, t0.Add(d)) {
			t.Fatalf("cookie valid after %v", d)
		}
	}
	// Made late in a slot, it is still valid for at least one slot.
	late := c.Make(a, t0.Add(CookieSlot-time.Second))
	if !c.Valid(&late, a, t0.Add(2*CookieSlot-2*time.Second)) || c.Valid(&late, a, t0.Add(2*CookieSlot)) {
		t.Fatal("late cookie lifetime")
	}
	for _, other := range []string{"198.51.100.7:1235", "198.51.100.8:1234", "[2001:db8::7]:1234"} {
		if c.Valid(&k, netip.MustParseAddrPort(other), t0) {
			t.Fatalf("cookie for %v accepted from %v", a, other)
		}
	}
	// IPv4 and its IPv4-mapped IPv6 form are the same address.
	if !c.Valid(&k, netip.MustParseAddrPort("[::ffff:198.51.100.7]:1234"), t0) {
		t.Fatal("IPv4-mapped form rejected")
	}
	for i := range k {
		bad := k
		bad[i] ^= 1
		if c.Valid(&bad, a, t0) {
			t.Fatalf("flipped byte %d accepted", i)
		}
	}
	// Another node's secret gives other cookies.
	c2, _ := NewCookies(newRand(2))
	if c2.Valid(&k, a, t0) {
		t.Fatal("cookie valid under another secret")
	}
}

func TestCookieJar(t *testing.T) {
	j := NewCookieJar(3)
	var c Cookie
	for i := 0; i < 5; i++ {
		c[0] = byte(i)
		j.Put(netip.AddrPortFrom(netip.MustParseAddr("192.0.2.1"), uint16(i+1)), c, t0.Add(time.Duration(i)*time.Second))
	}
	if j.Len() != 3 {
		t.Fatalf("jar holds %d", j.Len())
	}
	if _, ok := j.Get(netip.MustParseAddrPort("192.0.2.1:1"), t0.Add(5*time.Second)); ok {
		t.Fatal("oldest not evicted")
	}
	got, ok := j.Get(netip.MustParseAddrPort("192.0.2.1:5"), t0.Add(5*time.Second))
	if !ok || got[0] != 4 {
		t.Fatal("newest missing")
	}
	if _, ok := j.Get(netip.MustParseAddrPort("192.0.2.1:5"), t0.Add(4*time.Second+jarTTL)); ok {
		t.Fatal("stale cookie returned")
	}
	var nilJar *CookieJar
	nilJar.Put(addrR, c, t0)
	if _, ok := nilJar.Get(addrR, t0); ok {
		t.Fatal("nil jar")
	}
}
