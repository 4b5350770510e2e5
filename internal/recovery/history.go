package recovery

import "time"

// SentFrame describes one sent frame as the [Sender] tracks it.
type SentFrame struct {
	// Seq is the frame's sequence number.
	Seq uint64
	// Time is when the frame was sent.
	Time time.Time
	// Size is the frame's size in bytes as counted by congestion control.
	Size int
	// Handle is opaque to this package: the stream layer uses it to find
	// what data the frame carried (to free it on ACK or requeue it on loss).
	Handle uint64
	// AckEliciting is set if the frame asks the peer for an ACK (anything
	// but a pure ACK/padding frame).
	AckEliciting bool
	// InFlight is set if the frame counts toward bytes in flight (every
	// ack-eliciting frame, plus padding-only probes).
	InFlight bool
	// PMTUProbe marks a path MTU probe: a frame larger than the path is
	// known to carry, whose loss says nothing about congestion (RFC 9000
	// 14.4, RFC 8899 4.4). Its loss is still reported in AckResult.Lost
	// (the caller keeps it from congestion control), but it takes no part
	// in persistent congestion, and a late acknowledgement of it is not
	// counted in AckResult.Spurious.
	PMTUProbe bool
}

const (
	stateOutstanding uint8 = iota
	stateAcked
	stateLost
)

type entry struct {
	SentFrame
	state uint8
	// lostBehind is, for a frame declared lost, how far below the largest
	// acknowledged sequence it was then (the reordering it would take to
	// arrive after all).
	lostBehind uint64
}

// history is a deque of sent frames in sequence order, backed by a ring
// whose length is a power of two. Acknowledged and lost frames stay as
// tombstones until they reach the front, so the ring stays sorted and
// searchable. It grows by doubling up to max entries and never shrinks.
type history struct {
	buf  []entry
	head int
	n    int
	max  int
}

func (h *history) at(i int) *entry { return &h.buf[(h.head+i)&(len(h.buf)-1)] }

func (h *history) full() bool { return h.n >= h.max }

func (h *history) push(f SentFrame) bool {
	if h.n >= h.max {
		return false
	}
	if h.n == len(h.buf) {
		h.grow()
	}
	*h.at(h.n) = entry{SentFrame: f}
	h.n++
	return true
}

func (h *history) grow() {
	size := 2 * len(h.buf)
	if size == 0 {
		size = 64
	}
	nb := make([]entry, size)
	for i := 0; i < h.n; i++ {
		nb[i] = *h.at(i)
	}
	h.buf = nb
	h.head = 0
}

// popExpired drops tombstones at the front, except lost ones sent after
// keepLost: those stay for a while so that a late acknowledgement of a
// frame declared lost (reordering, not loss) can be recognised.
func (h *history) popExpired(keepLost time.Time) {
	for h.n > 0 {
		e := h.at(0)
		if e.state == stateOutstanding || e.state == stateLost && e.Time.After(keepLost) {
			return
		}
		h.head = (h.head + 1) & (len(h.buf) - 1)
		h.n--
	}
}

// popRemoved drops every tombstone at the front.
func (h *history) popRemoved() {
	for h.n > 0 {
		e := h.at(0)
		if e.state == stateOutstanding {
			return
		}
		h.head = (h.head + 1) & (len(h.buf) - 1)
		h.n--
	}
}

// search returns the index of the first entry with Seq >= seq (n if none).
func (h *history) search(seq uint64) int {
	lo, hi := 0, h.n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if h.at(m).Seq < seq {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}
