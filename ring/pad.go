package ring

import (
	"strconv"
	"sync/atomic"
)

// cacheLine is the assumed cache-line size. 64 bytes is right for amd64 and
// most arm64 cores; 128 would also cover adjacent-line prefetching, at the
// cost of memory no one needs here.
const cacheLine = 64

// paddedIndex is a uint64 counter alone on its cache line, so that the
// producer and the consumer do not invalidate each other's line on every
// operation (false sharing).
type paddedIndex struct {
	_ [cacheLine]byte
	v atomic.Uint64
	_ [cacheLine - 8]byte
}

// maxCapacity bounds a ring's capacity: 2^40 slots, or the largest power
// of two an int holds on 32-bit platforms.
const maxCapacity = 1 << min(40, strconv.IntSize-2)

// Capacity returns the capacity of a ring built with capacity n: the
// smallest power of two >= n, with a minimum of 2. It panics if n exceeds
// 2^40 (or 2^30 on 32-bit platforms), as the constructors do.
func Capacity(n int) int {
	if n < 2 {
		return 2
	}
	if n > maxCapacity {
		panic("ring: capacity too large")
	}
	c := 1
	for c < n {
		c <<= 1
	}
	return c
}
