package reassembly

import (
	"math"

	"github.com/sttgo/stt/fuzz/internal/fuzzdata"
)

// segment is one STREAM frame's data as a program chooses it.
type segment struct {
	off     uint64
	n       int
	fin     bool
	corrupt bool  // the bytes differ from the stream's (a broken duplicate)
	flags   uint8 // the raw flags byte (the Conn harness reads more bits)
}

// bytes returns the segment's data (nil for a far segment, whose bytes are
// never stored: any receiver must refuse it).
func (s segment) bytes() []byte {
	if s.off >= modelSpan || s.off+uint64(s.n) > modelSpan {
		return make([]byte, s.n)
	}
	b := make([]byte, s.n)
	for i := range b {
		o := s.off + uint64(i)
		if s.corrupt {
			b[i] = corrupt(o)
		} else {
			b[i] = truth(o)
		}
	}
	return b
}

// farBase is where far segments start: beyond any limit a receiver can
// reach in a program, so they must always be refused.
const farBase = 1 << 40

// nextSegment decodes a segment. mode picks how its offset relates to the
// model: absolute, near the read offset (window-sized jumps), overlapping the
// highest byte received, or far (above every limit, or wrapping past 2^64).
// scale multiplies the length byte. Segments that would reach past the
// model's span are shortened so that only far segments lie outside it.
func nextSegment(r *fuzzdata.Reader, m *model, mode uint8, scale int, window uint64) segment {
	v := uint64(r.U16())
	var s segment
	switch mode & 3 {
	case 0:
		s.off = v
	case 1:
		s.off = m.read + v%(4*window+1)
	case 2:
		s.off = m.highest - min(m.highest, v%512)
	case 3:
		if v&1 == 0 {
			s.off = farBase + v
		} else {
			s.off = math.MaxUint64 - v>>1
		}
	}
	s.n = int(r.U8()) * scale
	s.flags = r.U8()
	s.fin, s.corrupt = s.flags&1 != 0, s.flags&2 != 0
	if s.off < modelSpan && s.off+uint64(s.n) > modelSpan {
		s.n = int(modelSpan - s.off)
	}
	return s
}

// history remembers the last segments pushed, for replays.
type history struct {
	segs [32]segment
	n    int
}

func (h *history) add(s segment) {
	h.segs[h.n%len(h.segs)] = s
	h.n++
}

// pick returns a remembered segment (ok false if none).
func (h *history) pick(i uint8) (segment, bool) {
	if h.n == 0 {
		return segment{}, false
	}
	return h.segs[int(i)%min(h.n, len(h.segs))], true
}
