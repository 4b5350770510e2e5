package hdrhist

import "math"

// Count returns the number of values recorded (clamped ones included).
func (h *Histogram) Count() int64 { return h.total }

// Min returns the smallest recorded value (after clamping), exactly; 0 if
// the histogram is empty.
func (h *Histogram) Min() int64 {
	if h.total == 0 {
		return 0
	}
	return h.min
}

// Max returns the largest recorded value (after clamping), exactly; 0 if
// the histogram is empty.
func (h *Histogram) Max() int64 {
	if h.total == 0 {
		return 0
	}
	return h.max
}

// Mean returns the arithmetic mean of the recorded (clamped) values,
// computed from their exact sum (a float64, so with float rounding); 0 if
// the histogram is empty.
func (h *Histogram) Mean() float64 {
	if h.total == 0 {
		return 0
	}
	return h.sum / float64(h.total)
}

// Clamped returns how many recorded values were below lowest (counted as
// lowest) and above highest (counted as highest).
func (h *Histogram) Clamped() (under, over int64) { return h.under, h.over }

// Range returns the lowest and highest values the histogram tracks and its
// significant digits, as given to New.
func (h *Histogram) Range() (lowest, highest int64, sigDigits int) {
	return h.lowest, h.highest, h.sigDigits
}

// ValueAtQuantile returns the value at quantile q (0 <= q <= 1; q is
// clamped to that range and NaN counts as 0) by the nearest-rank
// definition: the value of rank ceil(q*Count()) (at least 1) among the
// sorted recorded values, reported as the highest value equivalent to it
// (same bucket), limited to [Min(), Max()]. So q=0 gives Min() and q=1
// gives Max() exactly, and any other result is within the precision New
// documents. It returns 0 if the histogram is empty and never allocates.
func (h *Histogram) ValueAtQuantile(q float64) int64 {
	if h.total == 0 {
		return 0
	}
	if !(q > 0) { // also NaN
		q = 0
	}
	q = min(q, 1)
	rank := int64(math.Ceil(q * float64(h.total)))
	switch {
	case rank <= 1:
		return h.min
	case rank >= h.total:
		return h.max
	}
	var seen int64
	for i, c := range h.counts {
		if c == 0 {
			continue
		}
		seen += c
		if seen >= rank {
			return min(max(h.highestIn(i), h.min), h.max)
		}
	}
	return h.max // unreachable: the counts add up to total
}

// Merge adds every value recorded in other to h; other is not modified.
// Histograms with the same layout (lowest, highest, sigDigits) merge
// exactly; otherwise each of other's buckets is recorded into h at its
// lowest equivalent value (clamped to h's range like Record), which keeps
// the merged result within the coarser of the two precisions; Min, Max and
// Mean still merge exactly when none of other's values needs clamping. It does not allocate.
func (h *Histogram) Merge(other *Histogram) {
	if other == nil || other.total == 0 || other == h {
		if other == h && h.total > 0 {
			for i := range h.counts {
				h.counts[i] *= 2
			}
			h.total, h.sum, h.under, h.over = 2*h.total, 2*h.sum, 2*h.under, 2*h.over
		}
		return
	}
	if h.lowest == other.lowest && h.highest == other.highest && h.sigDigits == other.sigDigits {
		for i, c := range other.counts {
			h.counts[i] += c
		}
		h.total += other.total
		h.sum += other.sum
		h.under += other.under
		h.over += other.over
		h.min = min(h.min, other.min)
		h.max = max(h.max, other.max)
		return
	}
	sum, under, over := h.sum, h.under, h.over
	iMin, iMax := other.index(other.min), other.index(other.max)
	for i, c := range other.counts {
		if c == 0 {
			continue
		}
		// The extremes are known exactly: one count of each is recorded
		// at its exact value, so Min and Max stay exact.
		if i == iMin {
			h.RecordN(other.min, 1)
			c--
		}
		if i == iMax && c > 0 {
			h.RecordN(other.max, 1)
			c--
		}
		h.RecordN(min(max(other.valueAt(i), other.min), other.max), c)
	}
	if h.under == under && h.over == over {
		h.sum = sum + other.sum // nothing clamped: keep the mean exact
	}
	h.under += other.under
	h.over += other.over
}
