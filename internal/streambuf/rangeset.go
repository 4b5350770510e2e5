package streambuf

// span is a half-open byte range [start, end) of stream offsets.
type span struct {
	start, end uint64
}

// rangeSet is a sorted set of disjoint, non-adjacent spans with a fixed
// capacity chosen at init. It never allocates after init.
type rangeSet struct {
	s []span // len = number of spans, cap = the bound
}

func (r *rangeSet) init(capacity int) { r.s = make([]span, 0, capacity) }

func (r *rangeSet) reset() { r.s = r.s[:0] }

// grow raises the capacity to capacity spans (no-op if not above),
// keeping the spans.
func (r *rangeSet) grow(capacity int) {
	if capacity > cap(r.s) {
		ns := make([]span, len(r.s), capacity)
		copy(ns, r.s)
		r.s = ns
	}
}

func (r *rangeSet) len() int { return len(r.s) }

// search returns the index of the first span whose end is >= start (the
// first span that overlaps or touches [start, ...)).
func (r *rangeSet) search(start uint64) int {
	lo, hi := 0, len(r.s)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if r.s[m].end < start {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// wouldGrow reports whether adding [start, end) would add a span (it
// touches none of the existing ones).
func (r *rangeSet) wouldGrow(start, end uint64) bool {
	i := r.search(start)
	return i == len(r.s) || r.s[i].start > end
}

// add inserts [start, end), merging overlapping and adjacent spans. If the
// set is full and the range touches no span, add returns false and
// changes nothing.
func (r *rangeSet) add(start, end uint64) bool {
	if start >= end {
		return true
	}
	i := r.search(start)
	if i == len(r.s) || r.s[i].start > end {
		if len(r.s) == cap(r.s) {
			return false
		}
		r.s = r.s[:len(r.s)+1]
		copy(r.s[i+1:], r.s[i:])
		r.s[i] = span{start, end}
		return true
	}
	// Merge with spans i..j-1 (all that touch [start, end)).
	j := i
	for j < len(r.s) && r.s[j].start <= end {
		j++
	}
	ns := min(start, r.s[i].start)
	ne := max(end, r.s[j-1].end)
	r.s[i] = span{ns, ne}
	r.s = append(r.s[:i+1], r.s[j:]...)
	return true
}

// addGrowing is add that first doubles a full set's capacity, up to
// limit spans, when the range touches no span.
func (r *rangeSet) addGrowing(start, end uint64, limit int) bool {
	if r.add(start, end) {
		return true
	}
	if cap(r.s) >= limit {
		return false
	}
	r.grow(min(2*cap(r.s), limit))
	return r.add(start, end)
}

// addMerging is add for sets whose spans may be widened safely (a
// retransmission queue): when the set is full and at limit spans, the new
// range is merged with its nearest neighbour, covering the bytes between
// them too.
func (r *rangeSet) addMerging(start, end uint64, limit int) {
	if start >= end || r.addGrowing(start, end, limit) {
		return
	}
	i := r.search(start) // r.s[i] (if any) starts after end
	switch {
	case i == len(r.s):
		r.s[i-1].end = end
	case i == 0:
		r.s[0].start = start
	case start-r.s[i-1].end <= r.s[i].start-end:
		r.s[i-1].end = end
	default:
		r.s[i].start = start
	}
}

// remove deletes [start, end) from the set. If that needs one extra span
// (splitting one in two) and the set is full, the span is kept whole: the
// set never loses a byte outside [start, end), which is what a
// retransmission queue needs (sending acknowledged bytes again is
// harmless, forgetting lost ones is not).
func (r *rangeSet) remove(start, end uint64) {
	if start >= end {
		return
	}
	i := r.search(start)
	for i < len(r.s) && r.s[i].start < end {
		sp := r.s[i]
		if sp.end <= start { // touches only
			i++
			continue
		}
		switch {
		case sp.start >= start && sp.end <= end: // covered: delete
			r.s = append(r.s[:i], r.s[i+1:]...)
		case sp.start < start && sp.end > end: // split
			if len(r.s) < cap(r.s) {
				r.s[i].end = start
				r.s = r.s[:len(r.s)+1]
				copy(r.s[i+2:], r.s[i+1:])
				r.s[i+1] = span{end, sp.end}
			}
			return
		case sp.start < start: // cut the tail
			r.s[i].end = start
			i++
		default: // cut the head
			r.s[i].start = end
			return
		}
	}
}

// trimBelow removes everything below off.
func (r *rangeSet) trimBelow(off uint64) {
	k := 0
	for k < len(r.s) && r.s[k].end <= off {
		k++
	}
	if k > 0 {
		r.s = append(r.s[:0], r.s[k:]...)
	}
	if len(r.s) > 0 && r.s[0].start < off {
		r.s[0].start = off
	}
}

// first returns the lowest span; ok is false if the set is empty.
func (r *rangeSet) first() (sp span, ok bool) {
	if len(r.s) == 0 {
		return span{}, false
	}
	return r.s[0], true
}

// popFirst removes the lowest span.
func (r *rangeSet) popFirst() { r.s = append(r.s[:0], r.s[1:]...) }
