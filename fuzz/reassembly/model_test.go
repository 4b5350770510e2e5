package reassembly

import "math"

// modelSpan bounds the stream offsets the model stores. Programs only
// store data below it; segments they place far above it ("far" segments)
// must be refused by every receiver, since no limit ever gets near.
const modelSpan = 1 << 17

// truth is the sender's byte at stream offset o: aperiodic, so that a byte
// stored at the wrong ring position is caught whatever the ring size.
func truth(o uint64) byte {
	o ^= o >> 33
	o *= 0xff51afd7ed558ccd
	o ^= o >> 33
	return byte(o)
}

// corrupt is a differing copy of the byte at o (a broken duplicate).
func corrupt(o uint64) byte { return truth(o) ^ 0xa5 }

// verdict is what the model says a segment or reset must produce.
type verdict uint8

const (
	accept      verdict = iota
	finalSize           // data past a known final size, a FIN or reset that changes it or lies below data received
	flowControl         // data or a final size beyond the limit (or past 2^64)
	tooManyGaps         // the segment would open a range beyond the tracked ones: not stored
)

func (v verdict) String() string {
	return [...]string{"accept", "final-size", "flow-control", "too-many-gaps"}[v]
}

// model is one stream's receive side as specified: got[o] is the first copy
// of byte o received (later copies never change it), have[o] whether byte o
// was received, and the offsets and final size of the stream.
type model struct {
	got      []byte
	have     []bool
	read     uint64 // next offset the application reads
	limit    uint64 // flow-control limit
	highest  uint64 // end of the highest byte received (or the reset's final size)
	final    uint64
	finKnown bool
	reset    bool
	code     uint64
	maxGaps  int // ranges tracked at or above read (0: not modelled)
}

func newModel(limit uint64, maxGaps int) *model {
	return &model{got: make([]byte, modelSpan), have: make([]bool, modelSpan), limit: limit, maxGaps: maxGaps}
}

// checkEnd applies the final-size rules (first) and the flow-control limit
// to data ending at end, with FIN if fin.
func (m *model) checkEnd(end uint64, fin bool) verdict {
	if m.finKnown && (end > m.final || fin && end != m.final) {
		return finalSize
	}
	if fin && end < m.highest {
		return finalSize
	}
	if end > m.limit {
		return flowControl
	}
	return accept
}

// held reports whether byte o is held (received and not yet read).
func (m *model) held(o uint64) bool { return o >= m.read && o < modelSpan && m.have[o] }

// ranges counts the disjoint runs of held bytes, stopping at limit.
func (m *model) ranges(limit int) int {
	n := 0
	for o := m.read; o < min(m.highest, modelSpan) && n < limit; o++ {
		if m.have[o] && (o == m.read || !m.have[o-1]) {
			n++
		}
	}
	return n
}

// touches reports whether [start, end) overlaps or is adjacent to a held
// run (then storing it adds no range).
func (m *model) touches(start, end uint64) bool {
	for o := max(start, m.read+1) - 1; o <= end && o < modelSpan; o++ {
		if m.held(o) {
			return true
		}
	}
	return false
}

// push applies one segment: data at off (the receiver gets exactly these
// bytes), FIN if fin. It returns the growth of the highest offset and the
// verdict; nothing changes unless the verdict is accept.
func (m *model) push(off uint64, data []byte, fin bool) (grow uint64, v verdict) {
	if off > math.MaxUint64-uint64(len(data)) {
		return 0, flowControl
	}
	end := off + uint64(len(data))
	if v := m.checkEnd(end, fin); v != accept {
		return 0, v
	}
	if m.reset {
		return 0, accept // checked, then ignored
	}
	start := max(off, m.read)
	if start < end {
		if m.maxGaps > 0 && start > m.read && !m.touches(start, end) && m.ranges(m.maxGaps) >= m.maxGaps {
			return 0, tooManyGaps
		}
		for o := start; o < end; o++ {
			if !m.have[o] {
				m.have[o], m.got[o] = true, data[o-off]
			}
		}
	}
	if end > m.highest {
		grow, m.highest = end-m.highest, end
	}
	if fin {
		m.finKnown, m.final = true, end
	}
	return grow, accept
}

// resetStream applies the peer's RESET_STREAM.
func (m *model) resetStream(final, code uint64) (grow uint64, v verdict) {
	if v := m.checkEnd(final, true); v != accept {
		return 0, v
	}
	if !m.reset {
		m.reset, m.code = true, code
	}
	if final > m.highest {
		grow, m.highest = final-m.highest, final
	}
	m.finKnown, m.final = true, final
	return grow, accept
}

// readable is the length of the contiguous run at the read offset.
func (m *model) readable() int {
	if m.reset {
		return 0
	}
	n := 0
	for o := m.read; m.held(o); o++ {
		n++
	}
	return n
}

// take consumes n readable bytes and returns them.
func (m *model) take(n int) []byte {
	b := m.got[m.read : m.read+uint64(n)]
	m.read += uint64(n)
	return b
}

// done reports whether everything up to the final size was read.
func (m *model) done() bool { return m.finKnown && m.read == m.final && !m.reset }
