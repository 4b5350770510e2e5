package wake

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// stressItems is how many items the stress tests move: fewer under the
// race detector, which slows every atomic operation down.
func stressItems() int {
	if raceEnabled {
		return 20000
	}
	return 200000
}

// TestNoLostWakeUp moves items from several notifiers to several waiters
// that sleep on one Signal whenever no item is ready. Items are taken with
// a compare-and-swap; a waiter that took one and sees more left passes the
// wake-up on. A lost wake-up leaves a waiter asleep with items ready, and
// the test then never finishes: the watchdog reports it after a minute
// (far beyond the sub-second run time; not a performance assertion).
func TestNoLostWakeUp(t *testing.T) {
	const notifiers, waiters = 3, 4
	total := stressItems()
	var ready atomic.Int64 // items made ready and not yet taken
	var taken atomic.Int64
	sig := New()
	done := make(chan struct{})
	take := func() bool {
		for {
			n := ready.Load()
			if n == 0 {
				return false
			}
			if ready.CompareAndSwap(n, n-1) {
				taken.Add(1)
				if n > 1 {
					sig.Notify() // pass the wake-up on
				}
				return true
			}
		}
	}
	var wg sync.WaitGroup
	for range waiters {
		wg.Go(func() {
			for taken.Load() < int64(total) {
				if take() {
					continue
				}
				sig.Prepare()
				if ready.Load() > 0 || taken.Load() >= int64(total) {
					sig.Cancel()
					continue
				}
				if !sig.Wait(done) {
					return
				}
			}
			sig.Notify() // the last item taken: let the other waiters see it
		})
	}
	for p := range notifiers {
		wg.Go(func() {
			for i := p; i < total; i += notifiers {
				ready.Add(1)
				sig.Notify()
			}
		})
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(time.Minute):
		close(done)
		<-finished
		t.Fatalf("lost wake-up: %d of %d items taken, %d ready, waiters asleep", taken.Load(), total, ready.Load())
	}
	if got := taken.Load(); got != int64(total) || ready.Load() != 0 {
		t.Fatalf("taken %d of %d, %d left ready", got, total, ready.Load())
	}
	if n := sig.waiters.Load(); n != 0 {
		t.Fatalf("%d announcements left after every waiter returned", n)
	}
}

// TestMutexGuarded uses the protocol with a condition under a mutex, as
// the stream layer and the datagram queue do: check and Prepare under the
// lock, change and Notify after it.
func TestMutexGuarded(t *testing.T) {
	total := stressItems() / 4
	var mu sync.Mutex
	queue := 0
	sig := New()
	var got int
	go func() {
		for range total {
			mu.Lock()
			queue++
			mu.Unlock()
			sig.Notify()
		}
	}()
	deadline := time.After(time.Minute)
	for got < total {
		mu.Lock()
		if queue > 0 {
			queue--
			got++
			mu.Unlock()
			continue
		}
		sig.Prepare()
		mu.Unlock()
		select {
		case <-sig.C():
		case <-deadline:
			t.Fatalf("lost wake-up after %d of %d items", got, total)
		}
		sig.Cancel()
	}
}

func TestWaitDone(t *testing.T) {
	s := New()
	done := make(chan struct{})
	close(done)
	s.Prepare()
	if s.Wait(done) {
		t.Fatal("Wait returned true with done closed and no Notify")
	}
	s.Notify() // nobody waits: no token
	select {
	case <-s.C():
		t.Fatal("Notify without a waiter left a token")
	default:
	}
	s.Prepare()
	s.Notify()
	s.Notify() // one token is kept, the second Notify does not block
	if !s.Wait(make(chan struct{})) {
		t.Fatal("Wait missed the token")
	}
	if n := s.waiters.Load(); n != 0 {
		t.Fatalf("waiters = %d after Wait", n)
	}
}

func TestNoAllocs(t *testing.T) {
	s := New()
	never := make(chan struct{})
	if a := testing.AllocsPerRun(1000, func() {
		s.Notify()
		s.Prepare()
		s.Notify()
		s.Wait(never)
	}); a != 0 {
		t.Fatalf("%v allocations per Notify/Prepare/Wait", a)
	}
}

func BenchmarkNotifyIdle(b *testing.B) {
	s := New()
	b.ReportAllocs()
	for b.Loop() {
		s.Notify()
	}
}

func BenchmarkNotifyWait(b *testing.B) {
	s := New()
	never := make(chan struct{})
	b.ReportAllocs()
	for b.Loop() {
		s.Prepare()
		s.Notify()
		s.Wait(never)
	}
}
