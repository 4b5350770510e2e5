package ring

// SPSC is a bounded single-producer single-consumer ring of T.
//
// Push and PushBatch may be called by one goroutine at a time (the
// producer), Pop and PopBatch by one goroutine at a time (the consumer); the
// two may run concurrently. Len and Cap may be called from anywhere.
// Producer and consumer indices live on separate cache lines, and each side
// keeps a cached copy of the other side's index, so that an operation
// touches the shared line only when the cached value says the ring looks
// full (producer) or empty (consumer).
type SPSC[T any] struct {
	head paddedIndex // next position to pop; written by the consumer
	tail paddedIndex // next position to push; written by the producer

	// Producer-owned cache of head, on its own line.
	_          [cacheLine]byte
	cachedHead uint64
	// Consumer-owned cache of tail, on its own line.
	_          [cacheLine - 8]byte
	cachedTail uint64
	_          [cacheLine - 8]byte

	buf  []T
	mask uint64
}

// NewSPSC returns an empty ring holding up to capacity items, rounded up to
// a power of two (minimum 2). It panics on an absurd capacity (> 2^40).
func NewSPSC[T any](capacity int) *SPSC[T] {
	c := Capacity(capacity)
	return &SPSC[T]{buf: make([]T, c), mask: uint64(c - 1)}
}

// Cap returns the number of items the ring can hold.
func (r *SPSC[T]) Cap() int { return len(r.buf) }

// Len returns the number of items in the ring. Called concurrently with
// pushes and pops it is a snapshot that may be stale by the time it returns.
func (r *SPSC[T]) Len() int {
	h := r.head.v.Load()
	t := r.tail.v.Load()
	if t < h { // head moved between the two loads
		return 0
	}
	return int(t - h)
}

// Push appends v and reports whether there was room. Producer only.
func (r *SPSC[T]) Push(v T) bool {
	t := r.tail.v.Load()
	if t-r.cachedHead >= uint64(len(r.buf)) {
		r.cachedHead = r.head.v.Load()
		if t-r.cachedHead >= uint64(len(r.buf)) {
			return false
		}
	}
	r.buf[t&r.mask] = v
	r.tail.v.Store(t + 1)
	return true
}

// PushBatch appends as many items of vs as fit, in order, and returns how
// many it appended (0 when the ring is full). Producer only. The items are
// published together with one atomic store.
func (r *SPSC[T]) PushBatch(vs []T) int {
	t := r.tail.v.Load()
	c := uint64(len(r.buf))
	free := c - (t - r.cachedHead)
	if free < uint64(len(vs)) {
		r.cachedHead = r.head.v.Load()
		free = c - (t - r.cachedHead)
	}
	n := min(uint64(len(vs)), free)
	for i := uint64(0); i < n; i++ {
		r.buf[(t+i)&r.mask] = vs[i]
	}
	if n > 0 {
		r.tail.v.Store(t + n)
	}
	return int(n)
}

// Pop removes and returns the oldest item; ok is false when the ring is
// empty. Consumer only. The slot is cleared to T's zero value.
func (r *SPSC[T]) Pop() (v T, ok bool) {
	h := r.head.v.Load()
	if h == r.cachedTail {
		r.cachedTail = r.tail.v.Load()
		if h == r.cachedTail {
			return v, false
		}
	}
	var zero T
	s := &r.buf[h&r.mask]
	v = *s
	*s = zero
	r.head.v.Store(h + 1)
	return v, true
}

// PopBatch moves up to len(dst) of the oldest items into dst, in order, and
// returns how many it moved. Consumer only. The slots are cleared and
// released together with one atomic store.
func (r *SPSC[T]) PopBatch(dst []T) int {
	h := r.head.v.Load()
	avail := r.cachedTail - h
	if avail < uint64(len(dst)) {
		r.cachedTail = r.tail.v.Load()
		avail = r.cachedTail - h
	}
	n := min(uint64(len(dst)), avail)
	var zero T
	for i := uint64(0); i < n; i++ {
		s := &r.buf[(h+i)&r.mask]
		dst[i] = *s
		*s = zero
	}
	if n > 0 {
		r.head.v.Store(h + n)
	}
	return int(n)
}
