package congestion

import "time"

// NewReno is the congestion controller of RFC 9002 section 7 (slow start,
// additive increase of one segment per window, halving on loss). Use
// [NewNewReno].
type NewReno struct {
	w       window
	ackedCA int // bytes acknowledged toward the next one-segment increase

	// The state before the last reduction, for OnSpuriousLoss.
	undoCwnd, undoSsthresh, undoAcked int
	undoable                          bool
}

// NewNewReno returns a NewReno controller.
func NewNewReno(cfg Config) *NewReno {
	r := &NewReno{}
	r.w.init(cfg.withDefaults())
	return r
}

// OnPacketSent implements [Controller].
func (r *NewReno) OnPacketSent(now time.Time, seq uint64, bytes int, inFlight bool) {
	r.w.onSent(seq)
}

// OnAcked implements [Controller].
func (r *NewReno) OnAcked(now time.Time, seq uint64, bytes int, sentTime time.Time, priorInFlight int) {
	if r.w.ackInRecovery(seq) {
		return
	}
	ss := r.InSlowStart()
	if !r.w.cwndLimited(seq, priorInFlight, ss) {
		return
	}
	if ss {
		r.w.cwnd += bytes
		r.w.clamp()
		return
	}
	r.ackedCA += bytes
	if r.ackedCA >= r.w.cwnd {
		r.ackedCA -= r.w.cwnd
		r.w.cwnd += r.w.mss
		r.w.clamp()
	}
}

// OnLost implements [Controller].
func (r *NewReno) OnLost(now time.Time, seq uint64, bytes int, priorInFlight int) {
	if !r.w.congestionEvent(seq) {
		return
	}
	r.undoCwnd, r.undoSsthresh, r.undoAcked, r.undoable = r.w.cwnd, r.w.ssthresh, r.ackedCA, true
	r.w.cwnd = int(float64(r.w.cwnd) * LossReductionFactor)
	r.w.clamp()
	r.w.ssthresh = r.w.cwnd
	r.ackedCA = 0
}

// OnSpuriousLoss implements [Controller].
func (r *NewReno) OnSpuriousLoss(now time.Time) {
	if !r.undoable {
		return
	}
	r.w.cwnd = max(r.w.cwnd, r.undoCwnd)
	r.w.ssthresh = r.undoSsthresh
	r.ackedCA = r.undoAcked
	r.w.inRecovery = false
	r.undoable = false
	r.w.clamp()
}

// OnPersistentCongestion implements [Controller].
func (r *NewReno) OnPersistentCongestion(now time.Time) {
	r.undoable = false
	r.w.cwnd = r.w.minWindow()
	r.w.inRecovery = false
	r.ackedCA = 0
}

// CanSend implements [Controller].
func (r *NewReno) CanSend(bytesInFlight int) bool { return r.w.canSend(bytesInFlight) }

// Window implements [Controller].
func (r *NewReno) Window() int { return r.w.cwnd }

// SetMSS implements [Controller].
func (r *NewReno) SetMSS(mss int) { r.w.setMSS(mss) }

// InSlowStart implements [Controller].
func (r *NewReno) InSlowStart() bool { return r.w.cwnd < r.w.ssthresh }

// InRecovery implements [Controller].
func (r *NewReno) InRecovery() bool { return r.w.inRecovery }

// Reductions returns the number of congestion events that reduced the
// window.
func (r *NewReno) Reductions() int { return r.w.reductions }
