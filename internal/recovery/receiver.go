package recovery

import "time"

// AckElicitingThreshold is how many ack-eliciting frames a [Receiver]
// accepts before it asks for an immediate ACK (RFC 9000 13.2.2).
const AckElicitingThreshold = 2

// Receiver is the receiving side's ACK bookkeeping: it records received
// sequences in [Ranges] and decides when an ACK is due. An ACK is due
// immediately after [AckElicitingThreshold] ack-eliciting frames, after an
// ack-eliciting frame that arrived out of order or opened a gap, and
// otherwise max ACK delay after the first unacknowledged ack-eliciting
// frame (RFC 9000 13.2.1). Frames that are not ack-eliciting are recorded
// but never cause an ACK by themselves. The zero value is not ready; use
// [NewReceiver]. Not safe for concurrent use.
type Receiver struct {
	ranges      Ranges
	maxAckDelay time.Duration

	largest     uint64
	largestTime time.Time
	any         bool

	unacked   int       // ack-eliciting frames since the last ACK
	deadline  time.Time // zero: no ACK pending
	immediate bool
}

// NewReceiver returns a Receiver that delays ACKs by at most maxAckDelay
// (DefaultMaxAckDelay if <= 0). The value must match the max ACK delay
// the peer's [Sender] assumes.
func NewReceiver(maxAckDelay time.Duration) *Receiver {
	if maxAckDelay <= 0 {
		maxAckDelay = DefaultMaxAckDelay
	}
	return &Receiver{maxAckDelay: maxAckDelay}
}

// OnReceived records the frame with sequence seq received at now and
// reports whether it was new (false: a duplicate still inside the
// retained ranges; the caller drops it). It does not allocate.
func (r *Receiver) OnReceived(now time.Time, seq uint64, ackEliciting bool) bool {
	if !r.ranges.Add(seq) {
		return false
	}
	outOfOrder := r.any && seq < r.largest
	gap := r.any && seq > r.largest && seq-r.largest > 1
	if !r.any || seq > r.largest {
		r.largest = seq
		r.largestTime = now
		r.any = true
	}
	if !ackEliciting {
		return true
	}
	r.unacked++
	if r.unacked >= AckElicitingThreshold || outOfOrder || gap {
		r.immediate = true
	}
	if r.deadline.IsZero() {
		r.deadline = now.Add(r.maxAckDelay)
	}
	return true
}

// AckPending reports whether an ACK is owed (at or before AckDeadline).
func (r *Receiver) AckPending() bool { return !r.deadline.IsZero() }

// AckDue reports whether an ACK should be sent at now.
func (r *Receiver) AckDue(now time.Time) bool {
	return r.immediate || (!r.deadline.IsZero() && !now.Before(r.deadline))
}

// AckDeadline returns when the pending ACK must be sent: the zero time if
// none is pending, and the time of the first unacknowledged ack-eliciting
// frame's max ACK delay otherwise (an immediate ACK is reported by
// [Receiver.AckDue]). The caller arms its ACK timer with it.
func (r *Receiver) AckDeadline() time.Time {
	if r.immediate {
		return r.largestTime
	}
	return r.deadline
}

// WriteAck fills a with an ACK for everything retained: a.Ranges is
// overwritten (reusing its capacity; allocating only if it is below
// [MaxRanges]) and a.Delay is now minus the arrival of the largest
// sequence. It clears the pending state and reports false, leaving a
// untouched, if nothing was ever received.
func (r *Receiver) WriteAck(now time.Time, a *Ack) bool {
	if !r.any {
		return false
	}
	a.Ranges = r.ranges.AppendTo(a.Ranges[:0])
	a.Delay = now.Sub(r.largestTime)
	if a.Delay < 0 {
		a.Delay = 0
	}
	r.unacked = 0
	r.deadline = time.Time{}
	r.immediate = false
	return true
}

// Ranges returns the receiver's range set (for example to call
// [Ranges.DropBelow] once an ACK was itself acknowledged).
func (r *Receiver) Ranges() *Ranges { return &r.ranges }
