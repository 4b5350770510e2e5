package streams

import (
	"time"
	"unsafe"

	"github.com/sttgo/stt/internal/streambuf"
)

// Memory a peer can make a Conn hold, and what the node budget
// (Config.Budget) covers:
//
//   - Stream data: the session window bounds the bytes held across the
//     session's streams (held <= limit - consumed). The protocol grants
//     InitialSessionWindow before any update, so that part is not charged;
//     every SESSION_CREDIT that raises limit - consumed above it charges
//     the budget first, and an increase the budget cannot cover is
//     withheld (CreditWithheld) and retried on a timer. Re-granting what
//     the application consumed keeps the charge level, so a session that
//     reads keeps its window while the budget is exhausted; it only stops
//     growing. Receive rings follow the bytes held (streambuf's lazy
//     rings), so they stay within twice the window plus one small ring per
//     stream.
//   - Peer streams: each costs peerStreamCost (its state and first ring)
//     from its first frame until its memory is freed. A stream the peer
//     resets before the application accepted it frees its ring at once,
//     stays queued for AcceptStream (the application still learns of it)
//     and returns its MAX_STREAMS credit only when accepted, so at most
//     InitialMaxStreams such streams exist per session.
//   - Reassembly ranges: a stream's buffer tracks streambuf.DefaultMaxRanges
//     out-of-order ranges at first; growGaps doubles that up to
//     Config.MaxRecvGaps, charging 16 bytes per range, until the stream
//     retires.
//   - Close releases every charge and the buffers nobody can read.

// peerStreamCost is what one peer-opened stream is charged: its Stream
// (with the receive buffer's range set and the send buffer's two), the
// first ring its data allocates, and 512 bytes for its share of the
// stream map and queues. Measured: 8270 bytes of heap per peer stream
// holding one byte; this is 8368.
const peerStreamCost = int64(unsafe.Sizeof(Stream{})) + 3*(streambuf.DefaultMaxRanges+1)*16 + streambuf.MinLazyRing + 512

// Credit retry: a withheld session credit increase is tried again after
// creditRetryMin, doubling up to creditRetryMax while the budget stays
// exhausted.
const (
	creditRetryMin = 10 * time.Millisecond
	creditRetryMax = 640 * time.Millisecond
)

// sessionCeiling is the highest session limit the budget lets us
// advertise now (c.mu held).
func (c *Conn) sessionCeiling() uint64 {
	avail := c.cfg.Budget.Available()
	if c.cfg.Budget == nil || avail > 1<<62 {
		return 1<<64 - 1 // unlimited: no ceiling (and no overflow below)
	}
	return c.recvWin.Consumed() + InitialSessionWindow + uint64(c.sessCharged) + uint64(avail)
}

// settleSessionCharge brings the budget's charge for this session's
// receive credit to what it has outstanding now beyond the initial window
// (c.mu held; one atomic add when it changed).
func (c *Conn) settleSessionCharge() {
	if c.cfg.Budget == nil {
		return
	}
	want := int64(0)
	if out := c.recvWin.Limit() - c.recvWin.Consumed(); out > InitialSessionWindow {
		want = int64(out - InitialSessionWindow)
	}
	if d := want - c.sessCharged; d != 0 {
		c.cfg.Budget.Charge(d)
		c.sessCharged = want
	}
}

// noteCredit records the outcome of a session credit update at now:
// capped by the budget or not, and whether the limit grew anyway (the
// application consumed bytes: the freed room is granted again). Only an
// update that the budget left with no growth at all waits for a retry
// timer; the others run as usual, at the next Poll (c.mu held).
func (c *Conn) noteCredit(now time.Time, capped, grew bool) {
	if !capped {
		c.creditCapped = false
	} else if !c.creditCapped {
		c.creditCapped = true
		c.stats.CreditWithheld.Add(1)
	}
	if !capped || grew {
		c.creditRetries = 0
		c.creditRetryAt = time.Time{}
		return
	}
	d := min(creditRetryMin<<min(c.creditRetries, 6), creditRetryMax)
	c.creditRetries++
	c.creditRetryAt = now.Add(d)
}

// chargePeerStream charges a new peer stream's cost (c.mu held).
func (c *Conn) chargePeerStream(st *Stream) {
	st.charged = true
	c.strCharged += peerStreamCost
	c.cfg.Budget.Charge(peerStreamCost)
}

// returnStreamCredit frees a retired peer stream's place: the peer may open
// another (MAX_STREAMS) and its cost leaves the budget (c.mu held).
func (c *Conn) returnStreamCredit(st *Stream) {
	c.ids.Remote.Retire()
	c.retiredPeer = true
	if st.charged {
		st.charged = false
		c.strCharged -= peerStreamCost
		c.cfg.Budget.Release(peerStreamCost)
	}
}

// growGaps doubles st's reassembly gap limit, up to Config.MaxRecvGaps,
// if the budget covers the ranges; it reports whether it grew (c.mu held).
// The ranges stay charged until the stream retires or the Conn closes.
func (c *Conn) growGaps(st *Stream) bool {
	cur := st.recv.GapLimit()
	n := min(2*cur, c.cfg.MaxRecvGaps)
	if n <= cur {
		return false
	}
	cost := int64(n-cur) * streambuf.GapBytes
	if !c.cfg.Budget.TryCharge(cost) {
		return false
	}
	st.gapCharged += cost
	c.gapCharged += cost
	st.recv.GrowGaps(n)
	return true
}

// releaseGaps gives back what growGaps charged for st (c.mu held).
func (c *Conn) releaseGaps(st *Stream) {
	if st.gapCharged != 0 {
		c.cfg.Budget.Release(st.gapCharged)
		c.gapCharged -= st.gapCharged
		st.gapCharged = 0
	}
}

// releaseLocked frees what a closed Conn holds for nobody: the streams the
// application never accepted (their rings), the driver's queues, and every
// budget charge (c.mu held). Streams the application accepted keep the
// bytes they already received: Read returns them before the error.
func (c *Conn) releaseLocked() {
	for _, st := range c.streams {
		st.charged = false // released in bulk below: a later retire must not release it again
		st.gapCharged = 0
	}
	for i, st := range c.acceptQ {
		st.recv.Release()
		st.charged = false
		c.acceptQ[i] = nil
	}
	c.acceptQ = nil
	c.active, c.ctlq, c.records = nil, nil, nil
	clear(c.streams)
	c.cfg.Budget.Release(c.sessCharged + c.strCharged + c.gapCharged)
	c.sessCharged, c.strCharged, c.gapCharged = 0, 0, 0
}

// BudgetCharged returns the bytes this Conn has charged to the node
// budget now: receive credit beyond the initial session window, its peer
// streams' cost and the reassembly gap limits grown (growGaps).
func (c *Conn) BudgetCharged() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sessCharged + c.strCharged + c.gapCharged
}
