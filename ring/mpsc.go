package ring

import "sync/atomic"

// mpscSlot is one cell of an MPSC ring. seq == p+1 says position p has been
// published into the cell and not yet consumed.
type mpscSlot[T any] struct {
	seq atomic.Uint64
	val T
}

// MPSC is a bounded multi-producer single-consumer ring of T.
//
// Push and PushBatch are safe for concurrent use by any number of
// goroutines; Pop and PopBatch may be called by one goroutine at a time (the
// consumer). Len and Cap may be called from anywhere.
//
// Producers reserve positions by a compare-and-swap on the tail index (a
// batch reserves a whole range at once), write their cells, and publish
// each cell by storing its per-cell sequence number, as in Dmitry Vyukov's
// bounded queue. The consumer advances the head only over published cells,
// in order, so a producer that has reserved but not yet published delays the
// consumer (which then sees the ring as empty at that point) but never
// corrupts it. A producer may reserve position p only once the consumer has
// released position p-Cap (head > p-Cap), which it checks against the head
// index before reserving.
type MPSC[T any] struct {
	head paddedIndex // next position to pop; written by the consumer
	_    [cacheLine]byte
	tail atomic.Uint64 // next position to reserve; CAS'd by producers
	// cachedHead is a lower bound of head kept on the producers' line, so
	// that a push reads the consumer's line only when the ring looks full.
	cachedHead atomic.Uint64
	_          [cacheLine - 16]byte

	slots []mpscSlot[T]
	mask  uint64
}

// NewMPSC returns an empty ring holding up to capacity items, rounded up to
// a power of two (minimum 2). It panics on an absurd capacity (> 2^40).
func NewMPSC[T any](capacity int) *MPSC[T] {
	c := Capacity(capacity)
	return &MPSC[T]{slots: make([]mpscSlot[T], c), mask: uint64(c - 1)}
}

// Cap returns the number of items the ring can hold.
func (r *MPSC[T]) Cap() int { return len(r.slots) }

// Len returns the number of positions reserved and not yet popped
// (including items a producer is still writing). Called concurrently with
// pushes and pops it is a snapshot.
func (r *MPSC[T]) Len() int {
	h := r.head.v.Load()
	t := r.tail.Load()
	if t < h {
		return 0
	}
	return int(t - h)
}

// reserve claims up to n consecutive positions and returns the first one
// and how many it got (0 when the ring is full).
func (r *MPSC[T]) reserve(n uint64) (uint64, uint64) {
	c := uint64(len(r.slots))
	for {
		t := r.tail.Load()
		h := r.cachedHead.Load()
		if t < h || t-h+n > c {
			// Looks full (or t is stale): refresh the bound from head.
			h = r.head.v.Load()
			r.cachedHead.Store(h) // may race with an older value: still a lower bound
			if t < h {
				continue // t was loaded before the consumer passed it
			}
		}
		k := min(n, c-(t-h))
		if k == 0 {
			return 0, 0
		}
		if r.tail.CompareAndSwap(t, t+k) {
			return t, k
		}
	}
}

// Push appends v and reports whether there was room. Safe for concurrent
// use by many producers.
func (r *MPSC[T]) Push(v T) bool {
	p, k := r.reserve(1)
	if k == 0 {
		return false
	}
	s := &r.slots[p&r.mask]
	s.val = v
	s.seq.Store(p + 1)
	return true
}

// PushBatch appends as many items of vs as fit, in order and contiguously
// (no other producer's item lands between them), and returns how many it
// appended. Safe for concurrent use by many producers.
func (r *MPSC[T]) PushBatch(vs []T) int {
	if len(vs) == 0 {
		return 0
	}
	p, k := r.reserve(uint64(len(vs)))
	for i := uint64(0); i < k; i++ {
		s := &r.slots[(p+i)&r.mask]
		s.val = vs[i]
		s.seq.Store(p + i + 1)
	}
	return int(k)
}

// Pop removes and returns the oldest published item; ok is false when the
// ring is empty or its oldest position is still being written. Consumer
// only. The slot is cleared to T's zero value.
func (r *MPSC[T]) Pop() (v T, ok bool) {
	h := r.head.v.Load()
	s := &r.slots[h&r.mask]
	if s.seq.Load() != h+1 {
		return v, false
	}
	var zero T
	v = s.val
	s.val = zero
	r.head.v.Store(h + 1)
	return v, true
}

// PopBatch moves up to len(dst) of the oldest published items into dst, in
// order, and returns how many it moved; it stops early at a position still
// being written. Consumer only. The slots are cleared and released with one
// atomic store of the head.
func (r *MPSC[T]) PopBatch(dst []T) int {
	h := r.head.v.Load()
	var zero T
	n := 0
	for n < len(dst) {
		s := &r.slots[(h+uint64(n))&r.mask]
		if s.seq.Load() != h+uint64(n)+1 {
			break
		}
		dst[n] = s.val
		s.val = zero
		n++
	}
	if n > 0 {
		r.head.v.Store(h + uint64(n))
	}
	return n
}
