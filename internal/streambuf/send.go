package streambuf

// DefaultMaxRanges is the number of out-of-order ranges a buffer tracks
// when Init is given 0.
const DefaultMaxRanges = 64

// MaxSendRanges bounds the ranges a SendBuffer's sets grow to (they start
// at the number given to Init and double when full): a receiver that
// tracks thousands of gaps (a loss burst on a fast path) acknowledges that
// many ranges out of order, and a set that cannot hold them sends
// acknowledged bytes again.
const MaxSendRanges = 2048

// Chunk describes stream data that [SendBuffer.Next] copied into the
// caller's buffer: N bytes at stream offset Offset, Fin if the chunk ends
// the stream (its end is the final size), Retransmit if the bytes were
// sent before and declared lost. The caller sends them as one STREAM frame
// and later reports the same chunk to OnAck or OnLost.
type Chunk struct {
	Offset     uint64
	N          int
	Fin        bool
	Retransmit bool
}

// End returns the stream offset after the chunk.
func (c Chunk) End() uint64 { return c.Offset + uint64(c.N) }

// SendBuffer holds the bytes of a stream's sending part from the moment
// the application writes them until the peer acknowledges them. Its
// capacity (the length of the memory given to Init) bounds the bytes in
// flight plus the bytes waiting to be sent, and is normally the stream's
// send window. The zero value is not usable; call Init or NewSendBuffer.
//
// Offsets: every byte below Acked() is acknowledged and freed; bytes in
// [Acked(), Sent()) were sent at least once; bytes in [Sent(), Written())
// were written and never sent. Next sends lost ranges first (in offset
// order), then new data.
type SendBuffer struct {
	ring    []byte // nil until the first Write after InitLazy
	size    int    // the capacity: len(ring) once it exists
	acked   uint64
	sent    uint64
	written uint64
	// ackedAbove holds acknowledged ranges above acked (out-of-order acks).
	ackedAbove rangeSet
	// lost is the retransmission queue, inside [acked, sent).
	lost rangeSet

	closed, finSent, finLost, finAcked bool
	reset                              bool
}

// NewSendBuffer returns a SendBuffer with capacity bytes of fresh memory
// and DefaultMaxRanges ranges per range set.
func NewSendBuffer(capacity int) *SendBuffer {
	s := new(SendBuffer)
	s.Init(make([]byte, capacity), 0)
	return s
}

// Init makes s an empty buffer over mem, which s owns from now on (the
// caller may take it from a pool and give it back after the stream ends).
// maxRanges bounds the out-of-order ack ranges and the retransmission
// ranges tracked (0: DefaultMaxRanges); Init allocates those two arrays.
// Init panics if mem is empty.
func (s *SendBuffer) Init(mem []byte, maxRanges int) {
	if len(mem) == 0 {
		panic("streambuf: SendBuffer with no memory")
	}
	if maxRanges <= 0 {
		maxRanges = DefaultMaxRanges
	}
	*s = SendBuffer{ring: mem, size: len(mem)}
	s.ackedAbove.init(maxRanges)
	s.lost.init(maxRanges)
}

// InitLazy is Init without the memory: s allocates its capacity bytes at
// the first Write that carries data, so that a stream opened and left idle
// costs no ring. InitLazy panics if capacity is not positive.
func (s *SendBuffer) InitLazy(capacity, maxRanges int) {
	if capacity <= 0 {
		panic("streambuf: SendBuffer with no capacity")
	}
	if maxRanges <= 0 {
		maxRanges = DefaultMaxRanges
	}
	*s = SendBuffer{size: capacity}
	s.ackedAbove.init(maxRanges)
	s.lost.init(maxRanges)
}

// Allocated reports whether the ring memory exists (see InitLazy).
func (s *SendBuffer) Allocated() bool { return s.ring != nil }

// Cap returns the capacity in bytes.
func (s *SendBuffer) Cap() int { return s.size }

// Grow raises the capacity to n bytes (values at or below Cap() are
// ignored), for example when the peer's stream window grew. It allocates a
// new ring and copies the held bytes: call it when a window changes, not
// per write.
func (s *SendBuffer) Grow(n int) {
	if n > s.size {
		if s.ring != nil {
			s.ring = ringRegrow(s.ring, n, s.acked, s.written)
		}
		s.size = n
	}
}

// Free returns how many bytes Write accepts now.
func (s *SendBuffer) Free() int {
	if s.closed || s.reset {
		return 0
	}
	return s.size - int(s.written-s.acked)
}

// Buffered returns the bytes held: written and not yet acknowledged.
func (s *SendBuffer) Buffered() int { return int(s.written - s.acked) }

// Written returns the stream offset after the last written byte.
func (s *SendBuffer) Written() uint64 { return s.written }

// Sent returns the stream offset after the highest byte ever sent; it is
// the flow-control credit the stream consumed.
func (s *SendBuffer) Sent() uint64 { return s.sent }

// Acked returns the offset below which every byte is acknowledged.
func (s *SendBuffer) Acked() uint64 { return s.acked }

// Closed reports whether Close was called.
func (s *SendBuffer) Closed() bool { return s.closed }

// Done reports whether the stream's sending part is complete: closed, and
// every byte and the FIN acknowledged. A reset buffer is never Done.
func (s *SendBuffer) Done() bool {
	return s.closed && !s.reset && s.finAcked && s.acked == s.written
}

// Write copies as much of p as fits and returns the count; a short count
// means the buffer is full (the caller waits for acknowledgements). It
// returns [ErrClosed] after Close and [ErrReset] after Reset.
func (s *SendBuffer) Write(p []byte) (int, error) {
	if s.reset {
		return 0, ErrReset
	}
	if s.closed {
		return 0, ErrClosed
	}
	n := min(len(p), s.Free())
	if n == 0 {
		return 0, nil
	}
	if s.ring == nil {
		s.ring = make([]byte, s.size)
	}
	ringCopyIn(s.ring, s.written, p[:n])
	s.written += uint64(n)
	return n, nil
}

// WriteSpace returns where the next bytes written go: the ring's free
// space from offset Written(), as a and then b (the part after the ring
// wraps), max bytes at most in total, allocating the ring if InitLazy left
// it out. It lets a writer copy without holding the lock that guards s:
// nothing else reads or writes the free space, and only Grow (the writer's
// own call) moves it. The copy becomes part of the stream with CommitWrite.
func (s *SendBuffer) WriteSpace(max int) (a, b []byte) {
	n := min(max, s.Free())
	if n <= 0 {
		return nil, nil
	}
	if s.ring == nil {
		s.ring = make([]byte, s.size)
	}
	i := int(s.written % uint64(len(s.ring)))
	a = s.ring[i:min(len(s.ring), i+n)]
	return a, s.ring[:n-len(a)]
}

// CommitWrite appends the first n bytes a WriteSpace call returned to the
// stream; off is Written() at that call. If s changed in between (Reset,
// Close) it appends nothing and returns [ErrReset], [ErrClosed] or
// [ErrStale]. n must not exceed what WriteSpace returned.
func (s *SendBuffer) CommitWrite(off uint64, n int) error {
	switch {
	case s.reset:
		return ErrReset
	case s.closed:
		return ErrClosed
	case off != s.written || n > s.Free():
		return ErrStale
	}
	s.written += uint64(n)
	return nil
}

// Close marks the end of the stream: the final size is Written(). Next
// sends the FIN with the last byte (or alone). Close after Reset returns
// [ErrReset]; a second Close is a no-op.
func (s *SendBuffer) Close() error {
	if s.reset {
		return ErrReset
	}
	s.closed = true
	return nil
}

// Reset abandons the stream (RESET_STREAM): buffered data is dropped and
// never sent again. It returns the final size to put in RESET_STREAM: the
// highest offset sent, which is the flow-control credit consumed.
func (s *SendBuffer) Reset() (finalSize uint64) {
	s.reset = true
	s.lost.reset()
	s.ackedAbove.reset()
	s.acked, s.written = s.sent, s.sent
	return s.sent
}

// Pending reports whether Next would return a chunk for a non-empty dst
// and the flow-control limit limit.
func (s *SendBuffer) Pending(limit uint64) bool {
	if s.reset {
		return false
	}
	if s.lost.len() > 0 {
		return true
	}
	if s.sent < s.written && s.sent < limit {
		return true
	}
	return s.finDue()
}

func (s *SendBuffer) finDue() bool {
	return s.closed && s.sent == s.written && !s.finAcked && (!s.finSent || s.finLost)
}

// Next copies the next bytes to send into dst and describes them. Lost
// ranges come first; then new data, which never extends past limit (the
// stream's flow-control limit, capped by the caller to what the session
// credit allows: new bytes consume credit, retransmissions do not). A FIN
// with no data left to carry it comes as a chunk with N == 0. ok is false
// if there is nothing to send (or dst is empty and no bare FIN is due).
func (s *SendBuffer) Next(dst []byte, limit uint64) (c Chunk, ok bool) {
	if s.reset {
		return Chunk{}, false
	}
	if sp, have := s.lost.first(); have && len(dst) > 0 {
		n := uint64(len(dst))
		if sp.end-sp.start <= n {
			n = sp.end - sp.start
			s.lost.popFirst()
		} else {
			s.lost.s[0].start += n
		}
		ringCopyOut(s.ring, sp.start, dst[:n])
		c = Chunk{Offset: sp.start, N: int(n), Retransmit: true}
		s.setFin(&c)
		return c, true
	}
	if s.sent < s.written && s.sent < limit && len(dst) > 0 {
		n := min(uint64(len(dst)), s.written-s.sent, limit-s.sent)
		ringCopyOut(s.ring, s.sent, dst[:n])
		c = Chunk{Offset: s.sent, N: int(n)}
		s.sent += n
		s.setFin(&c)
		return c, true
	}
	if s.finDue() {
		s.finSent, s.finLost = true, false
		return Chunk{Offset: s.written, Fin: true}, true
	}
	return Chunk{}, false
}

// Oldest copies the lowest unacknowledged bytes (from Acked(), at most
// len(dst), never past Sent()) into dst as a retransmission, with the FIN
// if they reach a FIN already sent; with no unacknowledged bytes it
// returns a sent, unacknowledged FIN alone (N == 0). ok is false if
// nothing sent awaits an acknowledgement (or dst is empty and there are
// bytes). Unlike Next it changes nothing but the FIN's state: it serves
// probes, which must carry data the receiver accepts whatever it dropped
// (a receiver holds every byte below Acked(), so a frame starting there
// never opens a gap in its reassembly buffer).
func (s *SendBuffer) Oldest(dst []byte) (c Chunk, ok bool) {
	if s.reset {
		return Chunk{}, false
	}
	if s.acked < s.sent && len(dst) > 0 {
		n := min(uint64(len(dst)), s.sent-s.acked)
		ringCopyOut(s.ring, s.acked, dst[:n])
		c = Chunk{Offset: s.acked, N: int(n), Retransmit: true}
		if s.closed && s.finSent && !s.finAcked && c.End() == s.written {
			c.Fin = true
		}
		return c, true
	}
	if s.acked == s.sent && s.closed && s.sent == s.written && s.finSent && !s.finAcked {
		return Chunk{Offset: s.written, Fin: true, Retransmit: true}, true
	}
	return Chunk{}, false
}

// setFin marks c as carrying the FIN if it reaches the final size.
func (s *SendBuffer) setFin(c *Chunk) {
	if s.closed && !s.finAcked && c.End() == s.written {
		c.Fin = true
		s.finSent, s.finLost = true, false
	}
}

// OnAck records that the peer acknowledged chunk c (a frame carrying it
// was acknowledged). Bytes become free once every byte before them is
// acknowledged too. Duplicate and overlapping acknowledgements are fine.
func (s *SendBuffer) OnAck(c Chunk) {
	if s.reset {
		return
	}
	if c.Fin {
		s.finAcked, s.finLost = true, false
	}
	start, end := c.Offset, min(c.End(), s.sent)
	if end <= s.acked {
		return
	}
	s.lost.remove(start, end)
	if start <= s.acked {
		s.acked = end
		for {
			sp, have := s.ackedAbove.first()
			if !have || sp.start > s.acked {
				break
			}
			s.acked = max(s.acked, sp.end)
			s.ackedAbove.popFirst()
		}
		s.lost.trimBelow(s.acked)
		return
	}
	if !s.ackedAbove.addGrowing(start, end, MaxSendRanges) {
		// Out of range slots: forget this acknowledgement and send the
		// bytes again; their next acknowledgement frees them. Sending
		// acknowledged bytes twice is harmless, never freeing them is not.
		s.lost.addMerging(start, end, MaxSendRanges)
	}
}

// OnLost records that a frame carrying chunk c was declared lost: the
// bytes not acknowledged since are queued for retransmission, and a lost
// FIN is sent again.
func (s *SendBuffer) OnLost(c Chunk) {
	if s.reset {
		return
	}
	if c.Fin && !s.finAcked {
		s.finLost = true
	}
	start, end := max(c.Offset, s.acked), min(c.End(), s.sent)
	if start >= end {
		return
	}
	// Queue the pieces of [start, end) that are not acknowledged.
	i := s.ackedAbove.search(start)
	for ; i < s.ackedAbove.len() && start < end; i++ {
		sp := s.ackedAbove.s[i]
		if sp.start >= end {
			break
		}
		if sp.start > start {
			s.lost.addMerging(start, sp.start, MaxSendRanges)
		}
		start = max(start, sp.end)
	}
	if start < end {
		s.lost.addMerging(start, end, MaxSendRanges)
	}
}
