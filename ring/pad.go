package ring

import "sync/atomic"

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

// roundPow2 returns the smallest power of two >= n, with a minimum of 2.
// It panics if n is too large for the rings' int-sized capacity.
func roundPow2(n int) int {
	if n < 2 {
		return 2
	}
	if n > 1<<40 {
		panic("ring: capacity too large")
	}
	c := 1
	for c < n {
		c <<= 1
	}
	return c
}
