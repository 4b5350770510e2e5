package handshake

import (
	"net/netip"
	"testing"
	"time"
)

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// floodBudget sends attempts at rate per second from src (2 operations
// each) for d and returns the operations allowed.
func floodBudget(b *WorkBudget, start time.Time, d time.Duration, rate int, src func(i int) netip.AddrPort) (allowed, refused int) {
	step := time.Second / time.Duration(rate)
	for i, t := 0, start; t.Before(start.Add(d)); i, t = i+1, t.Add(step) {
		if b.Allow(src(i), 2, false, t) {
			allowed += 2
		} else {
			refused++
		}
	}
	return allowed, refused
}

// TestBudgetLoneFlood: one address at the rate (14,600 attempts
// per second, 2 X25519 operations each) gets at most MaxOps, and in fact
// about PrefixRate + LoadBurst per LoadHold.
func TestBudgetLoneFlood(t *testing.T) {
	b := NewWorkBudget(BudgetConfig{})
	d := 5 * time.Second
	allowed, refused := floodBudget(b, t0, d, 14600, func(int) netip.AddrPort { return ap("192.0.2.7:4000") })
	bound := b.Config().MaxOps(d)
	t.Logf("%v at 14,600/s: %d operations allowed (%.0f/s), %d attempts refused; bound %d", d, allowed, float64(allowed)/d.Seconds(), refused, bound)
	if uint64(allowed) > bound || refused == 0 {
		t.Fatalf("allowed %d (bound %d), refused %d", allowed, bound, refused)
	}
	// Far below the bound in practice: about (256 + 256) per second.
	if allowed > 5*(DefaultPrefixRate+DefaultLoadBurst+DefaultPrefixBurst+DefaultPrefixReserve) {
		t.Fatalf("allowed %d", allowed)
	}
	if !b.UnderLoad(t0.Add(d)) {
		t.Fatal("not under load")
	}
}

// TestBudgetIdle: below LoadRate nothing is refused, whatever the prefix.
func TestBudgetIdle(t *testing.T) {
	b := NewWorkBudget(BudgetConfig{})
	allowed, refused := floodBudget(b, t0, 3*time.Second, DefaultLoadRate/2-10, func(int) netip.AddrPort { return ap("192.0.2.7:4000") })
	if refused != 0 || b.UnderLoad(t0.Add(3*time.Second)) {
		t.Fatalf("idle node refused %d (allowed %d)", refused, allowed)
	}
}

// TestBudgetOtherPrefixServed: under load from one prefix, another
// prefix's first handshakes are allowed; a proven peer is always allowed.
func TestBudgetOtherPrefixServed(t *testing.T) {
	b := NewWorkBudget(BudgetConfig{})
	floodBudget(b, t0, 2*time.Second, 14600, func(int) netip.AddrPort { return ap("192.0.2.7:4000") })
	now := t0.Add(2 * time.Second)
	if !b.UnderLoad(now) {
		t.Fatal("not under load")
	}
	if b.Allow(ap("192.0.2.7:4000"), 2, false, now) {
		t.Fatal("flooder allowed")
	}
	for i := range 20 {
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}), 5000)
		if !b.Allow(src, 2, false, now) {
			t.Fatalf("handshake %d of another prefix refused", i)
		}
	}
	if !b.Allow(ap("192.0.2.7:4000"), 2, true, now) {
		t.Fatal("proven peer refused")
	}
}

// TestBudgetFreshSourceInBusyPrefix: a source looping in one prefix
// (a wrong-seed node) spends the prefix's budget; another source of the
// same IP that has not spent anything gets the reserve.
func TestBudgetFreshSourceInBusyPrefix(t *testing.T) {
	b := NewWorkBudget(BudgetConfig{})
	loop := ap("192.0.2.7:4000")
	floodBudget(b, t0, 2*time.Second, 5000, func(int) netip.AddrPort { return loop })
	now := t0.Add(2 * time.Second)
	served := 0
	for i := range 10 {
		now = now.Add(10 * time.Millisecond)
		b.Allow(loop, 2, false, now) // the loop goes on
		if b.Allow(netip.AddrPortFrom(loop.Addr(), uint16(5000+i)), 2, false, now) {
			served++
		}
	}
	if served != 10 {
		t.Fatalf("%d of 10 fresh sources beside the loop served", served)
	}
	// Sources that rotate ports cannot take more than the reserve: the
	// prefix stays bounded.
	allowed, _ := floodBudget(b, now, 2*time.Second, 14600, func(i int) netip.AddrPort {
		return netip.AddrPortFrom(loop.Addr(), uint16(10000+i%50000))
	})
	if uint64(allowed) > b.Config().MaxOps(2*time.Second) {
		t.Fatalf("port rotation got %d", allowed)
	}
}

// TestBudgetWidePrefix: the /64s of one IPv6 /56 share the /56's budget
// (WidePrefixFactor times a /64's).
func TestBudgetWidePrefix(t *testing.T) {
	b := NewWorkBudget(BudgetConfig{})
	d := 3 * time.Second
	one, _ := floodBudget(b, t0, d, 14600, func(int) netip.AddrPort { return ap("[2001:db8:0:1::1]:4000") })
	b = NewWorkBudget(BudgetConfig{})
	many, _ := floodBudget(b, t0, d, 14600, func(i int) netip.AddrPort {
		a := [16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, byte(i), 0, 0, 0, 0, 0, 0, 0, 1}
		return netip.AddrPortFrom(netip.AddrFrom16(a), 4000)
	})
	t.Logf("one /64: %d operations; 256 /64s of one /56: %d", one, many)
	if many > WidePrefixFactor*one+DefaultLoadBurst*4 {
		t.Fatalf("/56 not bounded: %d vs %d for one /64", many, one)
	}
}

// TestBudgetPenalty: failed proofs make a prefix's budget last half as long.
func TestBudgetPenalty(t *testing.T) {
	run := func(penalize bool) int {
		b := NewWorkBudget(BudgetConfig{})
		src := ap("192.0.2.7:4000")
		n := 0
		step := time.Second / 14600
		for now := t0; now.Before(t0.Add(4 * time.Second)); now = now.Add(step) {
			if b.Allow(src, 2, false, now) {
				n += 2
				if penalize {
					b.Penalize(src, 2, now)
				}
			}
		}
		return n
	}
	plain, penalized := run(false), run(true)
	t.Logf("plain %d, with penalties %d", plain, penalized)
	if penalized >= plain {
		t.Fatalf("penalties did not reduce the work: %d >= %d", penalized, plain)
	}
}

func TestBudgetAllocs(t *testing.T) {
	b := NewWorkBudget(BudgetConfig{})
	src := ap("[2001:db8::1]:4000")
	now := t0
	if n := testing.AllocsPerRun(200, func() {
		now = now.Add(time.Millisecond)
		b.Allow(src, 2, false, now)
		b.Penalize(src, 2, now)
	}); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}

// TestBudgetMaxOps pins the documented figures of the default bound.
func TestBudgetMaxOps(t *testing.T) {
	if got := DefaultBudget.MaxOps(time.Second); got != 2056 {
		t.Fatalf("MaxOps(1 s) = %d", got)
	}
	if got := DefaultBudget.MaxOps(100*time.Second) / 100; got != 1671 { // 1,668/s plus the first second's bursts spread
		t.Fatalf("MaxOps(100 s)/100 = %d", got)
	}
}
