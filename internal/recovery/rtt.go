package recovery

import "time"

// RTT defaults. RFC 9002 uses an initial RTT of 333 ms for the open
// Internet; stt targets LANs and data-centre paths first, where 333 ms
// would make the first probe timeout needlessly slow, so it starts at
// 100 ms (still above any sane LAN or national WAN RTT, so the first PTO
// does not fire spuriously).
const (
	// DefaultInitialRTT is the RTT assumed before the first sample.
	DefaultInitialRTT = 100 * time.Millisecond
	// DefaultMaxAckDelay is the longest a receiver delays an ACK for an
	// ack-eliciting frame (RFC 9000's max_ack_delay default).
	DefaultMaxAckDelay = 25 * time.Millisecond
	// Granularity is the timer granularity of RFC 9002 (kGranularity).
	Granularity = time.Millisecond
)

// RTTStats estimates the round-trip time as RFC 9002 section 5 specifies.
// The zero value is not ready; use [NewRTTStats]. It is not safe for
// concurrent use.
type RTTStats struct {
	initial     time.Duration
	maxAckDelay time.Duration
	latest      time.Duration
	min         time.Duration
	smoothed    time.Duration
	rttvar      time.Duration
	samples     uint64
}

// NewRTTStats returns an estimator that assumes initialRTT until the first
// sample (DefaultInitialRTT if initialRTT <= 0) and caps the peer's
// reported ACK delay at maxAckDelay (DefaultMaxAckDelay if <= 0).
func NewRTTStats(initialRTT, maxAckDelay time.Duration) *RTTStats {
	r := &RTTStats{}
	r.init(initialRTT, maxAckDelay)
	return r
}

func (r *RTTStats) init(initialRTT, maxAckDelay time.Duration) {
	if initialRTT <= 0 {
		initialRTT = DefaultInitialRTT
	}
	if maxAckDelay <= 0 {
		maxAckDelay = DefaultMaxAckDelay
	}
	*r = RTTStats{initial: initialRTT, maxAckDelay: maxAckDelay}
	r.smoothed = initialRTT
	r.rttvar = initialRTT / 2
}

// Update adds one RTT sample: latest is the time from sending the largest
// newly acknowledged frame to receiving its ACK, ackDelay the delay the
// peer reported. Non-positive samples (a clock that did not advance) are
// ignored. The ACK delay is capped at the max ACK delay and subtracted only
// if that leaves the sample at or above min_rtt (RFC 9002 5.3).
func (r *RTTStats) Update(latest, ackDelay time.Duration) {
	if latest <= 0 {
		return
	}
	r.latest = latest
	if r.samples == 0 {
		r.min = latest
		r.smoothed = latest
		r.rttvar = latest / 2
		r.samples = 1
		return
	}
	r.samples++
	if r.min == 0 || latest < r.min { // min == 0 after ResetMin
		r.min = latest
	}
	if ackDelay < 0 {
		ackDelay = 0
	}
	if ackDelay > r.maxAckDelay {
		ackDelay = r.maxAckDelay
	}
	adjusted := latest
	if latest >= r.min+ackDelay {
		adjusted = latest - ackDelay
	}
	d := r.smoothed - adjusted
	if d < 0 {
		d = -d
	}
	r.rttvar = (3*r.rttvar + d) / 4
	r.smoothed = (7*r.smoothed + adjusted) / 8
}

// ResetMin forgets min_rtt so that the next sample sets it, as RFC 9002
// 5.2 recommends after persistent congestion.
func (r *RTTStats) ResetMin() { r.min = 0 }

// Latest returns the most recent sample (0 before the first).
func (r *RTTStats) Latest() time.Duration { return r.latest }

// Min returns the minimum RTT seen (0 before the first sample).
func (r *RTTStats) Min() time.Duration { return r.min }

// Smoothed returns smoothed_rtt (the initial RTT before the first sample).
func (r *RTTStats) Smoothed() time.Duration { return r.smoothed }

// RTTVar returns rttvar (half the initial RTT before the first sample).
func (r *RTTStats) RTTVar() time.Duration { return r.rttvar }

// Samples returns the number of samples taken; congestion controllers use
// it to tell a fresh sample from a repeated read.
func (r *RTTStats) Samples() uint64 { return r.samples }

// HasSample reports whether at least one sample was taken.
func (r *RTTStats) HasSample() bool { return r.samples > 0 }

// MaxAckDelay returns the cap applied to the peer's ACK delay.
func (r *RTTStats) MaxAckDelay() time.Duration { return r.maxAckDelay }

// PTO returns the base probe timeout of RFC 9002 6.2.1, without backoff:
// smoothed_rtt + max(4*rttvar, Granularity) + max_ack_delay.
func (r *RTTStats) PTO() time.Duration {
	v := 4 * r.rttvar
	if v < Granularity {
		v = Granularity
	}
	return r.smoothed + v + r.maxAckDelay
}
