package streambuf

import (
	"io"
	"math"
)

// RecvBuffer reassembles the data of a stream's receiving part from STREAM
// frames that arrive in any order, duplicated or overlapping, and hands it
// to the application in order. The zero value is not usable; call Init or
// NewRecvBuffer.
//
// Memory: the ring (the memory given to Init, or allocated after
// InitLazy) holds the bytes in [Read(), Limit()); Limit never exceeds
// Read() plus the capacity, so received data always fits and never
// overwrites unread bytes. Data beyond Limit is a flow-control violation
// ([ErrFlowControl]). After InitLazy the ring follows the data, not the
// capacity: it starts at [MinLazyRing] bytes (or what the first frame
// needs) at the first data and doubles, up to the capacity, only when the
// span from Read() to the highest byte received outgrows it, so a stream
// holding a few bytes costs a few kilobytes, not a whole window
// ([Footprint]); a reset drops it at once.
//
// Overlap policy: bytes already received and not yet read are kept (the
// first copy wins) and a later copy of them is ignored without comparison,
// as RFC 9000 section 2.2 allows; frames are authenticated, so differing
// copies can only come from a broken peer, and checking would cost a
// compare per retransmitted byte. Bytes already read are ignored too.
type RecvBuffer struct {
	ring    []byte // nil until the first data after InitLazy
	size    int    // the capacity: len(ring) once it exists
	read    uint64
	limit   uint64
	highest uint64
	// have holds the received ranges at or above read. Its capacity is
	// maxGaps+1: the extra slot is reserved for a range that starts at read
	// (the readable prefix), so that the frame filling the gap at the read
	// offset is always accepted and a full set can never stall the stream.
	have    rangeSet
	maxGaps int
	maxCap  int  // the ring may grow up to this size (SetMaxCap)
	lazy    bool // InitLazy: the ring follows the data (see the type's doc)

	finalSize uint64
	finKnown  bool
	reset     bool
	resetCode uint64
}

// NewRecvBuffer returns a RecvBuffer with capacity bytes of fresh memory,
// an initial limit of capacity and DefaultMaxRanges ranges.
func NewRecvBuffer(capacity int) *RecvBuffer {
	r := new(RecvBuffer)
	r.Init(make([]byte, capacity), uint64(capacity), 0)
	return r
}

// Init makes r an empty buffer over mem, which r owns from now on, with
// the flow-control limit limit (the initial stream window the local side
// advertised; it is clamped to len(mem)). maxRanges bounds the number of
// disjoint received ranges (0: DefaultMaxRanges); Init allocates that
// array. Init panics if mem is empty.
func (r *RecvBuffer) Init(mem []byte, limit uint64, maxRanges int) {
	if len(mem) == 0 {
		panic("streambuf: RecvBuffer with no memory")
	}
	if maxRanges <= 0 {
		maxRanges = DefaultMaxRanges
	}
	*r = RecvBuffer{ring: mem, size: len(mem), limit: min(limit, uint64(len(mem))), maxGaps: maxRanges, maxCap: len(mem)}
	r.have.init(maxRanges + 1)
}

// InitLazy is Init without the memory: r allocates its capacity bytes only
// when the first stream data arrives, so that a stream opened and left idle
// costs no ring. InitLazy panics if capacity is not positive.
func (r *RecvBuffer) InitLazy(capacity int, limit uint64, maxRanges int) {
	if capacity <= 0 {
		panic("streambuf: RecvBuffer with no capacity")
	}
	if maxRanges <= 0 {
		maxRanges = DefaultMaxRanges
	}
	*r = RecvBuffer{size: capacity, limit: min(limit, uint64(capacity)), maxGaps: maxRanges, maxCap: capacity, lazy: true}
	r.have.init(maxRanges + 1)
}

// GapLimit returns how many out-of-order ranges r tracks now (see Push and
// GrowGaps).
func (r *RecvBuffer) GapLimit() int { return r.maxGaps }

// GrowGaps raises the gap limit to n (no-op if not above the current one),
// allocating the larger range set: 16 bytes per range. The owner calls it
// when Push reports [ErrTooManyGaps] and its memory budget allows, then
// pushes the frame again.
func (r *RecvBuffer) GrowGaps(n int) {
	if n > r.maxGaps {
		r.maxGaps = n
		r.have.grow(n + 1)
	}
}

// GapBytes is the memory one tracked range costs (see GrowGaps).
const GapBytes = 16

// MinLazyRing is the ring a lazily initialised buffer allocates at its
// first data (unless the capacity is smaller or the frame needs more).
const MinLazyRing = 4 << 10

// Allocated reports whether the ring memory exists (see InitLazy).
func (r *RecvBuffer) Allocated() bool { return r.ring != nil }

// Footprint returns the bytes of ring memory r holds now (0 before the
// first data of a lazy buffer and after a reset).
func (r *RecvBuffer) Footprint() int { return len(r.ring) }

// Release drops the ring of a lazy buffer (a no-op for memory given to
// Init): the bytes held are lost and later data is checked and ignored as
// after a reset. The owner calls it when nobody can read the stream any
// more (its session closed before the application accepted it).
func (r *RecvBuffer) Release() {
	if !r.lazy {
		return
	}
	r.ring = nil
	r.reset = true
	r.have.reset()
}

// growFor makes a lazy ring hold the stream bytes [r.read, end) (end-read
// at most size): it allocates the first ring or doubles the current one,
// copying the bytes held. The old ring is left as it was, so a reader
// copying out of it (ReadSpace) still sees its bytes.
func (r *RecvBuffer) growFor(end uint64) {
	need := end - r.read
	if need <= uint64(len(r.ring)) {
		return
	}
	n := len(r.ring)
	if n == 0 {
		n = min(MinLazyRing, r.size)
	}
	for uint64(n) < need {
		n = min(2*n, r.size)
	}
	if r.ring == nil {
		r.ring = make([]byte, n)
		return
	}
	r.ring = ringRegrow(r.ring, n, r.read, r.highest)
}

// Cap returns the current capacity in bytes.
func (r *RecvBuffer) Cap() int { return r.size }

// MaxCap returns the capacity the ring may grow to.
func (r *RecvBuffer) MaxCap() int { return r.maxCap }

// SetMaxCap lets the ring grow up to n bytes (values below Cap() are
// ignored), so that a stream can start with a small buffer and follow its
// auto-tuned window: SetLimit then reallocates the ring, doubling it, when
// a new limit needs more room. Growth allocates and copies the held bytes;
// it happens only when the window grows, at most log2(n/Cap()) times.
func (r *RecvBuffer) SetMaxCap(n int) { r.maxCap = max(r.maxCap, n) }

// ReadOffset returns the stream offset of the next byte the application reads.
func (r *RecvBuffer) ReadOffset() uint64 { return r.read }

// Limit returns the flow-control limit: the peer may send bytes below it.
func (r *RecvBuffer) Limit() uint64 { return r.limit }

// Highest returns the highest stream offset received (end of the highest
// byte, or the final size of a reset).
func (r *RecvBuffer) Highest() uint64 { return r.highest }

// FinalSize returns the final size and whether it is known (FIN or
// RESET_STREAM received).
func (r *RecvBuffer) FinalSize() (uint64, bool) { return r.finalSize, r.finKnown }

// ResetCode returns the peer's error code and true if it reset the stream.
func (r *RecvBuffer) ResetCode() (uint64, bool) { return r.resetCode, r.reset }

// Readable returns the number of bytes Read can return now.
func (r *RecvBuffer) Readable() int {
	if sp, ok := r.have.first(); ok && sp.start == r.read && !r.reset {
		return int(sp.end - sp.start)
	}
	return 0
}

// Done reports whether the application has read everything up to the
// final size.
func (r *RecvBuffer) Done() bool { return r.finKnown && r.read == r.finalSize }

// SetLimit raises the flow-control limit to limit (before the local side
// advertises it in FLOW_CREDIT). A lower limit is ignored: limits never
// shrink. If limit exceeds ReadOffset()+Cap(), the ring grows (see
// SetMaxCap); it returns [ErrLimit] and changes nothing if limit exceeds
// ReadOffset()+MaxCap().
func (r *RecvBuffer) SetLimit(limit uint64) error {
	if limit <= r.limit {
		return nil
	}
	if need := limit - r.read; need > uint64(r.size) {
		if need > uint64(r.maxCap) {
			return ErrLimit
		}
		n := r.size
		for uint64(n) < need {
			n = min(2*n, r.maxCap)
		}
		if r.ring != nil && !r.lazy {
			r.ring = ringRegrow(r.ring, n, r.read, r.highest)
		}
		r.size = n
	}
	r.limit = limit
	return nil
}

// checkEnd applies the final-size and flow-control rules to data ending
// at end (with FIN if fin).
func (r *RecvBuffer) checkEnd(end uint64, fin bool) error {
	if r.finKnown && (end > r.finalSize || fin && end != r.finalSize) {
		return ErrFinalSize
	}
	if fin && end < r.highest {
		return ErrFinalSize
	}
	if end > r.limit {
		return ErrFlowControl
	}
	return nil
}

// Push stores the data of one STREAM frame: len(data) bytes at stream
// offset off, fin if the frame carries STREAM_END. It copies the bytes it
// keeps; data is not retained. It returns by how much the highest received
// offset grew, which the caller charges to the session's flow control.
//
// Errors (nothing is stored on error): [ErrFinalSize] (data beyond a known
// final size, a FIN that changes the final size or lies below data already
// received), [ErrFlowControl] (data beyond Limit()), [ErrTooManyGaps] (the
// frame would open one more gap than the buffer tracks; do not acknowledge
// it; a frame at the read offset is always accepted, so the stream cannot
// stall). After the peer reset the stream, data is checked and then ignored.
func (r *RecvBuffer) Push(off uint64, data []byte, fin bool) (grow uint64, err error) {
	if off > math.MaxUint64-uint64(len(data)) {
		return 0, ErrFlowControl
	}
	end := off + uint64(len(data))
	if err := r.checkEnd(end, fin); err != nil {
		return 0, err
	}
	if r.reset {
		return 0, nil
	}
	start := max(off, r.read)
	if start < end {
		if start > r.read && r.have.len() >= r.maxGaps && r.have.wouldGrow(start, end) {
			return 0, ErrTooManyGaps
		}
		r.copyGaps(start, end, data[start-off:])
		r.have.add(start, end)
	}
	if end > r.highest {
		grow = end - r.highest
		r.highest = end
	}
	if fin {
		r.finKnown, r.finalSize = true, end
	}
	return grow, nil
}

// copyGaps copies the parts of [start, end) not yet held from p (whose
// first byte is at offset start) into the ring.
func (r *RecvBuffer) copyGaps(start, end uint64, p []byte) {
	if start >= end {
		return
	}
	if r.lazy {
		r.growFor(end)
	}
	base := start
	i := r.have.search(start)
	for ; i < r.have.len() && start < end; i++ {
		sp := r.have.s[i]
		if sp.start >= end {
			break
		}
		if sp.start > start {
			ringCopyIn(r.ring, start, p[start-base:sp.start-base])
		}
		start = max(start, sp.end)
	}
	if start < end {
		ringCopyIn(r.ring, start, p[start-base:end-base])
	}
}

// Read copies in-order data into p and returns the count. At the end of
// the stream (everything up to the final size read) it returns 0, [io.EOF];
// if the peer reset the stream it returns 0, [ErrReset]. With no data
// available yet it returns 0, nil: the caller waits for more frames.
func (r *RecvBuffer) Read(p []byte) (int, error) {
	if r.reset {
		return 0, ErrReset
	}
	sp, ok := r.have.first()
	if !ok || sp.start != r.read {
		if r.Done() {
			return 0, io.EOF
		}
		return 0, nil
	}
	n := min(uint64(len(p)), sp.end-sp.start)
	if n > 0 {
		ringCopyOut(r.ring, r.read, p[:n])
		r.consume(n)
	}
	return int(n), nil
}

// ReadSpace returns the bytes Read would return next, up to max, in place:
// a and then b (the part after the ring wraps), starting at ReadOffset().
// It lets a reader copy without holding the lock that guards r: Push never
// rewrites held bytes and SetLimit's regrowth leaves the old ring as it
// was, so a and b keep their contents until CommitRead. Nothing is
// consumed until then.
func (r *RecvBuffer) ReadSpace(max int) (a, b []byte) {
	n := min(uint64(max), uint64(r.Readable()))
	if n == 0 {
		return nil, nil
	}
	i := r.read % uint64(len(r.ring))
	a = r.ring[i:min(uint64(len(r.ring)), i+n)]
	return a, r.ring[:n-uint64(len(a))]
}

// CommitRead consumes the first n bytes of a ReadSpace call made at read
// offset off (n 0 consumes nothing). If r changed in between (Reset, or
// another reader) it consumes nothing and returns [ErrReset] or [ErrStale];
// a negative n is ErrStale too.
func (r *RecvBuffer) CommitRead(off uint64, n int) error {
	switch {
	case r.reset:
		return ErrReset
	case off != r.read || n < 0 || n > r.Readable():
		return ErrStale
	}
	if n > 0 {
		r.consume(uint64(n))
	}
	return nil
}

// consume advances the read offset by n > 0 readable bytes.
func (r *RecvBuffer) consume(n uint64) {
	r.read += n
	if sp, _ := r.have.first(); r.read == sp.end {
		r.have.popFirst()
	} else {
		r.have.s[0].start = r.read
	}
}

// Reset applies the peer's RESET_STREAM with final size finalSize and
// error code code: buffered data is dropped (a lazy ring is freed) and
// Read returns [ErrReset].
// It returns by how much the highest received offset grew (the final size
// counts against flow control, RFC 9000 4.5). Errors: [ErrFinalSize] (the
// final size differs from a known one or lies below data received),
// [ErrFlowControl] (above Limit()). A repeated identical reset is a no-op.
func (r *RecvBuffer) Reset(finalSize, code uint64) (grow uint64, err error) {
	if err := r.checkEnd(finalSize, true); err != nil {
		return 0, err
	}
	if !r.reset {
		r.reset, r.resetCode = true, code
		r.have.reset()
		if r.lazy {
			r.ring = nil // nobody will read the bytes: free them now
		}
	}
	if finalSize > r.highest {
		grow = finalSize - r.highest
		r.highest = finalSize
	}
	r.finKnown, r.finalSize = true, finalSize
	return grow, nil
}
