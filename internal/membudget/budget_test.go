package membudget

import (
	"sync"
	"testing"
)

func TestTryChargeStopsAtLimit(t *testing.T) {
	b := New(1000)
	if !b.TryCharge(600) || !b.TryCharge(400) {
		t.Fatal("charges within the limit refused")
	}
	if b.TryCharge(1) {
		t.Fatal("charge past the limit accepted")
	}
	if b.Used() != 1000 || b.Denied() != 1 || !b.Exhausted() || b.Available() != 0 {
		t.Fatalf("used %d denied %d exhausted %v available %d", b.Used(), b.Denied(), b.Exhausted(), b.Available())
	}
	b.Release(400)
	if b.Used() != 600 || b.Exhausted() || b.Available() != 400 {
		t.Fatalf("after release: used %d available %d", b.Used(), b.Available())
	}
	if b.Charge(500) != 1100 || !b.Exhausted() || b.Peak() != 1100 {
		t.Fatalf("Charge must pass the limit: used %d peak %d", b.Used(), b.Peak())
	}
}

func TestNilBudgetIsUnlimited(t *testing.T) {
	var b *Budget
	if !b.TryCharge(1<<40) || b.Exhausted() || b.Used() != 0 || b.Limit() != 0 {
		t.Fatal("nil budget must accept everything and count nothing")
	}
	b.Charge(5)
	b.Release(5)
}

// TestConcurrentTryChargeNeverPassesLimit races many chargers: the limit
// holds at every instant (Peak) and every byte charged is released.
func TestConcurrentTryChargeNeverPassesLimit(t *testing.T) {
	const limit = 10_000
	b := New(limit)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := int64(100 + g*37)
			for range 20_000 {
				if b.TryCharge(n) {
					b.Release(n)
				}
			}
		}()
	}
	wg.Wait()
	if b.Peak() > limit {
		t.Fatalf("peak %d passed the limit %d", b.Peak(), limit)
	}
	if b.Used() != 0 {
		t.Fatalf("used %d after every release", b.Used())
	}
}

func TestChargeDoesNotAllocate(t *testing.T) {
	b := New(1 << 20)
	if n := testing.AllocsPerRun(100, func() {
		if b.TryCharge(64) {
			b.Release(64)
		}
		b.Charge(1)
		b.Release(1)
	}); n != 0 {
		t.Fatalf("%v allocs per run", n)
	}
}

func BenchmarkTryChargeRelease(b *testing.B) {
	bg := New(1 << 30)
	b.ReportAllocs()
	for b.Loop() {
		if bg.TryCharge(4096) {
			bg.Release(4096)
		}
	}
}
