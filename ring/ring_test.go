package ring

import (
	"runtime"
	"sync"
	"testing"

	"github.com/sttgo/stt/internal/wake"
)

// queue is what both rings implement; the tests run against each.
type queue interface {
	Push(v *int) bool
	PushBatch(vs []*int) int
	Pop() (*int, bool)
	PopBatch(dst []*int) int
	Len() int
	Cap() int
}

func forEachRing(t *testing.T, capacity int, fn func(t *testing.T, q queue)) {
	t.Run("SPSC", func(t *testing.T) { fn(t, NewSPSC[*int](capacity)) })
	t.Run("MPSC", func(t *testing.T) { fn(t, NewMPSC[*int](capacity)) })
}

func vals(n int) []*int {
	vs := make([]*int, n)
	for i := range vs {
		v := i
		vs[i] = &v
	}
	return vs
}

func TestCapacityRounding(t *testing.T) {
	for _, tc := range []struct{ in, want int }{{-1, 2}, {0, 2}, {1, 2}, {2, 2}, {3, 4}, {64, 64}, {65, 128}, {1000, 1024}} {
		if got := NewSPSC[int](tc.in).Cap(); got != tc.want {
			t.Errorf("SPSC cap(%d) = %d, want %d", tc.in, got, tc.want)
		}
		if got := NewMPSC[int](tc.in).Cap(); got != tc.want {
			t.Errorf("MPSC cap(%d) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestFIFOAndEdges(t *testing.T) {
	forEachRing(t, 8, func(t *testing.T, q queue) {
		vs := vals(20)
		if _, ok := q.Pop(); ok {
			t.Fatal("Pop on empty ring succeeded")
		}
		if n := q.PopBatch(make([]*int, 4)); n != 0 {
			t.Fatalf("PopBatch on empty ring = %d", n)
		}
		for i := 0; i < 8; i++ {
			if !q.Push(vs[i]) {
				t.Fatalf("Push %d failed before full", i)
			}
		}
		if q.Push(vs[8]) {
			t.Fatal("Push on full ring succeeded")
		}
		if n := q.PushBatch(vs[8:10]); n != 0 {
			t.Fatalf("PushBatch on full ring = %d", n)
		}
		if q.Len() != 8 {
			t.Fatalf("Len = %d, want 8", q.Len())
		}
		for i := 0; i < 8; i++ {
			v, ok := q.Pop()
			if !ok || v != vs[i] {
				t.Fatalf("Pop %d = %v,%v", i, v, ok)
			}
		}
		if q.Len() != 0 {
			t.Fatalf("Len = %d, want 0", q.Len())
		}
	})
}

func TestBatchSemantics(t *testing.T) {
	forEachRing(t, 8, func(t *testing.T, q queue) {
		vs := vals(12)
		if n := q.PushBatch(nil); n != 0 {
			t.Fatalf("PushBatch(nil) = %d", n)
		}
		if n := q.PushBatch(vs[:5]); n != 5 {
			t.Fatalf("PushBatch 5 = %d", n)
		}
		// Only 3 fit: a short count, in order.
		if n := q.PushBatch(vs[5:12]); n != 3 {
			t.Fatalf("PushBatch partial = %d, want 3", n)
		}
		dst := make([]*int, 3)
		if n := q.PopBatch(dst); n != 3 || dst[0] != vs[0] || dst[2] != vs[2] {
			t.Fatalf("PopBatch 3 = %d", n)
		}
		big := make([]*int, 16)
		if n := q.PopBatch(big); n != 5 {
			t.Fatalf("PopBatch rest = %d, want 5", n)
		}
		for i := 0; i < 5; i++ {
			if big[i] != vs[3+i] {
				t.Fatalf("PopBatch order at %d", i)
			}
		}
		if n := q.PopBatch(big); n != 0 {
			t.Fatalf("PopBatch empty = %d", n)
		}
	})
}

func TestWraparound(t *testing.T) {
	forEachRing(t, 4, func(t *testing.T, q queue) {
		vs := vals(3)
		dst := make([]*int, 3)
		next := 0
		// Push/pop many laps with batches that straddle the end of the buffer.
		for lap := 0; lap < 1000; lap++ {
			if n := q.PushBatch(vs); n != 3 {
				t.Fatalf("lap %d PushBatch = %d", lap, n)
			}
			if lap%2 == 0 {
				for i := 0; i < 3; i++ {
					v, ok := q.Pop()
					if !ok || v != vs[i] {
						t.Fatalf("lap %d Pop %d", lap, i)
					}
				}
			} else if n := q.PopBatch(dst); n != 3 || dst[0] != vs[0] || dst[1] != vs[1] || dst[2] != vs[2] {
				t.Fatalf("lap %d PopBatch = %d", lap, n)
			}
			next++
		}
		if next != 1000 || q.Len() != 0 {
			t.Fatalf("Len = %d after laps", q.Len())
		}
	})
}

// TestPopClearsSlots checks that the ring drops its reference to a popped
// pointer, so the GC does not retain it.
func TestPopClearsSlots(t *testing.T) {
	s := NewSPSC[*int](4)
	m := NewMPSC[*int](4)
	vs := vals(4)
	s.PushBatch(vs)
	m.PushBatch(vs)
	s.Pop()
	s.PopBatch(make([]*int, 3))
	m.Pop()
	m.PopBatch(make([]*int, 3))
	for i := range s.buf {
		if s.buf[i] != nil {
			t.Errorf("SPSC slot %d not cleared", i)
		}
		if m.slots[i].val != nil {
			t.Errorf("MPSC slot %d not cleared", i)
		}
	}
}

func TestAllocs(t *testing.T) {
	forEachRing(t, 64, func(t *testing.T, q queue) {
		v := new(int)
		batch := make([]*int, 16)
		for i := range batch {
			batch[i] = v
		}
		n := testing.AllocsPerRun(1000, func() {
			q.Push(v)
			q.Pop()
			q.PushBatch(batch)
			q.PopBatch(batch)
		})
		if n != 0 {
			t.Fatalf("push/pop allocate %v times per run", n)
		}
	})
}

func stressCount() int {
	if raceEnabled {
		return 20000
	}
	return 400000
}

// TestMPSCStress moves N distinct items from several producers (single and
// batch pushes) to one consumer and checks that every item arrives exactly
// once and that each producer's items arrive in its order.
func TestMPSCStress(t *testing.T) {
	const producers = 4
	total := stressCount()
	per := total / producers
	r := NewMPSC[uint64](64)
	sig := wake.New() // the consumer sleeps as the engine's shards do
	var wg sync.WaitGroup
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			batch := make([]uint64, 0, 7)
			for i := 0; i < per; {
				v := uint64(p)<<32 | uint64(i)
				if p%2 == 0 { // single pushes
					if r.Push(v) {
						sig.Notify()
						i++
					} else {
						runtime.Gosched()
					}
					continue
				}
				batch = batch[:0]
				for j := i; j < per && len(batch) < cap(batch); j++ {
					batch = append(batch, uint64(p)<<32|uint64(j))
				}
				n := r.PushBatch(batch)
				if n > 0 {
					sig.Notify()
				} else {
					runtime.Gosched()
				}
				i += n
			}
		}(p)
	}
	seen := make([]bool, producers*per)
	next := make([]int, producers)
	dst := make([]uint64, 16)
	done := make(chan struct{}) // never closed: Wait only returns on Notify
	got := 0
	for got < producers*per {
		n := r.PopBatch(dst)
		if n == 0 {
			sig.Prepare()
			if r.Len() > 0 {
				sig.Cancel()
				runtime.Gosched() // a producer may be mid-write
				continue
			}
			sig.Wait(done)
			continue
		}
		for _, v := range dst[:n] {
			p, i := int(v>>32), int(uint32(v))
			if p >= producers || i >= per {
				t.Fatalf("bogus item %x", v)
			}
			if seen[p*per+i] {
				t.Fatalf("item %x seen twice", v)
			}
			if i != next[p] {
				t.Fatalf("producer %d: got item %d, want %d (order)", p, i, next[p])
			}
			next[p]++
			seen[p*per+i] = true
			got++
		}
	}
	wg.Wait()
	if r.Len() != 0 {
		t.Fatalf("ring not empty at the end: %d", r.Len())
	}
}

// TestSPSCStress moves N items across two goroutines with a mix of single
// and batch operations, checking order and the sum.
func TestSPSCStress(t *testing.T) {
	total := stressCount()
	r := NewSPSC[uint64](32)
	sig := wake.New() // the consumer sleeps as the engine's shards do
	go func() {
		batch := make([]uint64, 5)
		for i := 0; i < total; {
			if i%3 == 0 {
				if r.Push(uint64(i)) {
					sig.Notify()
					i++
				} else {
					runtime.Gosched()
				}
				continue
			}
			k := 0
			for ; k < len(batch) && i+k < total; k++ {
				batch[k] = uint64(i + k)
			}
			n := r.PushBatch(batch[:k])
			if n > 0 {
				sig.Notify()
			} else {
				runtime.Gosched()
			}
			i += n
		}
	}()
	dst := make([]uint64, 8)
	want := uint64(0)
	var sum uint64
	done := make(chan struct{})
	for want < uint64(total) {
		var n int
		if want%2 == 0 {
			n = r.PopBatch(dst)
		} else if v, ok := r.Pop(); ok {
			dst[0], n = v, 1
		}
		if n == 0 {
			sig.Prepare()
			if r.Len() > 0 {
				sig.Cancel()
				continue
			}
			sig.Wait(done)
			continue
		}
		for _, v := range dst[:n] {
			if v != want {
				t.Fatalf("got %d, want %d", v, want)
			}
			sum += v
			want++
		}
	}
	if exp := uint64(total) * uint64(total-1) / 2; sum != exp {
		t.Fatalf("sum %d, want %d", sum, exp)
	}
}
