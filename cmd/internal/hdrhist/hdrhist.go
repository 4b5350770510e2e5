// Package hdrhist is a High Dynamic Range histogram of non-negative int64
// values (durations in nanoseconds, sizes, ...), after Gil Tene's
// HdrHistogram: log-linear buckets whose width is at most 10^-d of the
// values they hold, for d configurable significant decimal digits, over a
// fixed range [lowest, highest] chosen at construction.
//
// Recording is a couple of shifts and one counter increment: it never
// allocates, so a Histogram can sit on a hot path. A Histogram is not safe
// for concurrent use; give each goroutine its own and Merge them.
package hdrhist

import (
	"math"
	"math/bits"
)

// MaxCounts bounds the counter array New allocates (2^21 counters, 16 MiB):
// wide ranges at 5 significant digits exceed it and New returns ErrTooLarge.
const MaxCounts = 1 << 21

// Histogram counts values in log-linear buckets. The zero value is not
// usable; create one with New.
type Histogram struct {
	lowest, highest int64
	sigDigits       int

	unitMagnitude               uint // floor(log2(lowest))
	subBucketHalfCountMagnitude uint
	subBucketCount              int64 // 2^(subBucketHalfCountMagnitude+1)
	subBucketHalfCount          int64
	subBucketMask               uint64 // (subBucketCount-1) << unitMagnitude

	counts []int64

	total       int64
	min, max    int64   // exact extremes of the recorded (clamped) values
	sum         float64 // exact values summed, for Mean
	under, over int64   // values clamped up to lowest / down to highest
}

// New returns an empty histogram that tracks values in [lowest, highest]
// with sigDigits significant decimal digits: a recorded value v is reported
// back (by ValueAtQuantile) as a value in the same bucket, which differs
// from v by less than max(v / 10^sigDigits, 2^floor(log2(lowest))).
//
// Errors: ErrLowest (lowest < 1), ErrRange (highest < 2*lowest),
// ErrSigDigits (sigDigits outside 1..5), ErrTooLarge (more than MaxCounts
// counters needed).
func New(lowest, highest int64, sigDigits int) (*Histogram, error) {
	switch {
	case lowest < 1:
		return nil, ErrLowest
	case highest/2 < lowest:
		return nil, ErrRange
	case sigDigits < 1 || sigDigits > 5:
		return nil, ErrSigDigits
	}
	h := &Histogram{lowest: lowest, highest: highest, sigDigits: sigDigits}
	largestSingleUnit := 2 * int64(math.Pow10(sigDigits)) // exact for 1..5
	subBucketCountMagnitude := uint(bits.Len64(uint64(largestSingleUnit - 1)))
	h.subBucketHalfCountMagnitude = subBucketCountMagnitude - 1
	h.unitMagnitude = uint(bits.Len64(uint64(lowest)) - 1)
	h.subBucketCount = 1 << (h.subBucketHalfCountMagnitude + 1)
	h.subBucketHalfCount = h.subBucketCount / 2
	h.subBucketMask = uint64(h.subBucketCount-1) << h.unitMagnitude
	if h.unitMagnitude+h.subBucketHalfCountMagnitude+1 > 62 {
		return nil, ErrTooLarge
	}

	// Buckets double in range: find how many cover highest.
	smallestUntrackable := uint64(h.subBucketCount) << h.unitMagnitude
	buckets := 1
	for smallestUntrackable <= uint64(highest) {
		if smallestUntrackable > math.MaxInt64/2 {
			buckets++
			break
		}
		smallestUntrackable <<= 1
		buckets++
	}
	n := int64(buckets+1) * h.subBucketHalfCount
	if n > MaxCounts {
		return nil, ErrTooLarge
	}
	h.counts = make([]int64, n)
	h.Reset()
	return h, nil
}

// Record counts one value. Values below lowest are counted as lowest and
// values above highest as highest (see Clamped). It never allocates.
func (h *Histogram) Record(v int64) { h.RecordN(v, 1) }

// RecordN counts value v n times (n <= 0 is ignored), clamping v like
// Record. It never allocates.
func (h *Histogram) RecordN(v, n int64) {
	if n <= 0 {
		return
	}
	if v < h.lowest {
		v = h.lowest
		h.under += n
	} else if v > h.highest {
		v = h.highest
		h.over += n
	}
	h.counts[h.index(v)] += n
	h.total += n
	h.sum += float64(v) * float64(n)
	h.min = min(h.min, v)
	h.max = max(h.max, v)
}

// index returns the counter of v (0 <= v <= highest).
func (h *Histogram) index(v int64) int {
	bucket, sub := h.bucketOf(v)
	return int((bucket+1)<<h.subBucketHalfCountMagnitude + (sub - h.subBucketHalfCount))
}

// bucketOf returns v's bucket and sub-bucket indexes.
func (h *Histogram) bucketOf(v int64) (bucket, sub int64) {
	pow2Ceiling := int64(64 - bits.LeadingZeros64(uint64(v)|h.subBucketMask))
	bucket = pow2Ceiling - int64(h.unitMagnitude) - int64(h.subBucketHalfCountMagnitude+1)
	sub = v >> (uint(bucket) + h.unitMagnitude)
	return bucket, sub
}

// valueAt returns the lowest value counted by counter i.
func (h *Histogram) valueAt(i int) int64 {
	bucket := int64(i>>h.subBucketHalfCountMagnitude) - 1
	sub := int64(i)&(h.subBucketHalfCount-1) + h.subBucketHalfCount
	if bucket < 0 {
		sub -= h.subBucketHalfCount
		bucket = 0
	}
	return sub << (uint(bucket) + h.unitMagnitude)
}

// bucketWidth returns how many values share v's counter.
func (h *Histogram) bucketWidth(v int64) int64 {
	bucket, sub := h.bucketOf(v)
	if sub >= h.subBucketCount {
		bucket++
	}
	return 1 << (h.unitMagnitude + uint(bucket))
}

// LowestEquivalent returns the smallest value counted in the same bucket as
// v (v is clamped to the histogram's range first).
func (h *Histogram) LowestEquivalent(v int64) int64 {
	v = min(max(v, h.lowest), h.highest)
	return h.valueAt(h.index(v))
}

// HighestEquivalent returns the largest value counted in the same bucket
// as v (v is clamped to the histogram's range first). It may exceed
// highest: buckets are powers of two wide.
func (h *Histogram) HighestEquivalent(v int64) int64 {
	v = min(max(v, h.lowest), h.highest)
	return h.highestIn(h.index(v))
}

// highestIn returns the highest value counted by counter i, saturating at
// math.MaxInt64.
func (h *Histogram) highestIn(i int) int64 {
	lo := h.valueAt(i)
	w := h.bucketWidth(lo)
	if lo > math.MaxInt64-(w-1) {
		return math.MaxInt64
	}
	return lo + w - 1
}

// Reset forgets every recorded value, keeping the layout and the counter
// array (no allocation).
func (h *Histogram) Reset() {
	clear(h.counts)
	h.total, h.sum, h.under, h.over = 0, 0, 0, 0
	h.min, h.max = math.MaxInt64, math.MinInt64
}
