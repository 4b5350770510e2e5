package recovery

import "time"

// Loss detection constants of RFC 9002 (section 6.1 and appendix A.2).
const (
	// PacketThreshold is kPacketThreshold: a frame is lost once a frame
	// sent this many sequences later is acknowledged.
	PacketThreshold = 3
	// TimeThresholdNum and TimeThresholdDen give kTimeThreshold = 9/8: a
	// frame is lost once it is older than 9/8 * max(smoothed, latest RTT)
	// and a later frame was acknowledged.
	TimeThresholdNum = 9
	TimeThresholdDen = 8
	// PersistentCongestionThreshold is kPersistentCongestionThreshold.
	PersistentCongestionThreshold = 3
	// MaxPTOBackoff caps the PTO exponent: the timeout doubles at most
	// this many times (2^16 * 100 ms is far beyond any idle timeout).
	MaxPTOBackoff = 16
	// DefaultMaxTracked bounds the sent history: 16384 frames of 1200
	// bytes is 19.6 MB in flight, above congestion's default max window.
	DefaultMaxTracked = 16384
	// MaxReorderThreshold caps the adaptive packet threshold (see
	// Sender.ReorderThreshold).
	MaxReorderThreshold = 256
	// MaxTimeThresholdNum caps the adaptive time threshold's numerator
	// (over TimeThresholdDen): at most twice the RTT (see
	// Sender.TimeThreshold).
	MaxTimeThresholdNum = 2 * TimeThresholdDen
	// ProbeFrames is how many probe frames a PTO asks for (RFC 9002 6.2.4
	// allows up to two).
	ProbeFrames = 2
)

// Config configures a [Sender]. Zero fields take the defaults.
type Config struct {
	// InitialRTT is the RTT assumed before the first sample
	// (DefaultInitialRTT).
	InitialRTT time.Duration
	// MaxAckDelay is the peer's max ACK delay (DefaultMaxAckDelay).
	MaxAckDelay time.Duration
	// MaxTracked bounds the sent history (DefaultMaxTracked).
	MaxTracked int
}

// AckResult receives what one [Sender.OnAck] or [Sender.OnTimeout] call
// found. The caller owns it and passes the same value every time: the
// Sender truncates Acked and Lost and appends to them, so once their
// capacity covers the largest batch no call allocates.
type AckResult struct {
	// Acked lists the newly acknowledged frames in ascending sequence.
	Acked []SentFrame
	// Lost lists the frames declared lost in ascending sequence. Their
	// data, if still wanted, must be resent in new frames.
	Lost []SentFrame
	// PriorInFlight is the bytes in flight before this call.
	PriorInFlight int
	// RTTSampled is set if the call took an RTT sample.
	RTTSampled bool
	// PersistentCongestion is set if the lost frames establish persistent
	// congestion (RFC 9002 7.6); congestion control collapses its window.
	PersistentCongestion bool
	// Spurious counts frames acknowledged after they had been declared
	// lost: they were reordered, not lost (their data was resent anyway).
	// Path MTU probes are not counted (their loss was no congestion
	// signal, so there is nothing to undo).
	Spurious int
	// Probes is the number of probe frames the caller should send now,
	// bypassing the congestion window (set by a PTO in OnTimeout). New
	// data is best; otherwise resend unacknowledged data.
	Probes int
}

func (r *AckResult) reset(inFlight int) {
	r.Acked = r.Acked[:0]
	r.Lost = r.Lost[:0]
	r.PriorInFlight = inFlight
	r.RTTSampled = false
	r.PersistentCongestion = false
	r.Spurious = 0
	r.Probes = 0
}

// Sender tracks sent frames and runs loss detection (RFC 9002 section 6)
// for one direction of a session. Not safe for concurrent use.
type Sender struct {
	rtt  RTTStats
	hist history

	largestSent  uint64
	anySent      bool
	lastSentTime time.Time
	largestAcked uint64
	anyAcked     bool

	bytesInFlight      int
	ackElicitingFlight int // ack-eliciting frames outstanding
	lastAckElicitingAt time.Time
	lossTime           time.Time
	ptoCount           int
	firstSampleAt      time.Time
	reorder            uint64 // packet threshold in use (adaptive)
	timeNum            int64  // time threshold in use, over TimeThresholdDen (adaptive)
}

// NewSender returns a Sender configured by cfg.
func NewSender(cfg Config) *Sender {
	s := &Sender{}
	s.rtt.init(cfg.InitialRTT, cfg.MaxAckDelay)
	s.hist.max = cfg.MaxTracked
	if s.hist.max <= 0 {
		s.hist.max = DefaultMaxTracked
	}
	s.reorder = PacketThreshold
	s.timeNum = TimeThresholdNum
	return s
}

// TimeThreshold returns the time threshold in use as a fraction num/den of
// the RTT (max(smoothed, latest)). It starts at RFC 9002's 9/8 and, when a
// frame declared lost is acknowledged after all, grows to cover the time
// that frame took with an eighth to spare, up to [MaxTimeThresholdNum]/8
// (twice the RTT; RFC 9002 6.1.2 allows adapting it, as RACK's reordering
// window does). Delay jitter of a few per cent of the RTT reorders frames
// sent close together: with 9/8 a frame overtaken by one sent just after
// it is declared lost whenever the jitter exceeds the eighth, and every
// such false loss costs a retransmission and, until undone, a window
// reduction.
func (s *Sender) TimeThreshold() (num, den int64) { return s.timeNum, TimeThresholdDen }

// ReorderThreshold returns the packet threshold in use. It starts at
// PacketThreshold (RFC 9002's 3) and, when frames declared lost are
// acknowledged after all, grows to cover the largest reordering distance
// they showed with a quarter to spare (up to MaxReorderThreshold): on a
// path that reorders (jitter, multipath, netem) a fixed threshold of 3
// declares reordered frames lost over and over and congestion control
// collapses. Real losses are still found by the time threshold (see
// TimeThreshold). The lost tombstones that make the detection possible are
// kept for two loss delays.
func (s *Sender) ReorderThreshold() uint64 { return s.reorder }

// RTT returns the sender's RTT estimator; congestion control reads it.
func (s *Sender) RTT() *RTTStats { return &s.rtt }

// BytesInFlight returns the bytes of outstanding in-flight frames.
func (s *Sender) BytesInFlight() int { return s.bytesInFlight }

// Outstanding returns the number of tracked frames, tombstones included.
func (s *Sender) Outstanding() int { return s.hist.n }

// CanTrack reports whether one more frame fits in the history.
func (s *Sender) CanTrack() bool { return !s.hist.full() || s.hist.front() }

// LargestSent returns the largest sequence sent and whether any was.
func (s *Sender) LargestSent() (uint64, bool) { return s.largestSent, s.anySent }

// LargestAcked returns the largest sequence acknowledged and whether any
// was.
func (s *Sender) LargestAcked() (uint64, bool) { return s.largestAcked, s.anyAcked }

// OldestOutstanding returns the outstanding ack-eliciting frame with the
// lowest sequence, if any. It does not allocate.
func (s *Sender) OldestOutstanding() (SentFrame, bool) {
	for i := 0; i < s.hist.n; i++ {
		if e := s.hist.at(i); e.state == stateOutstanding && e.AckEliciting {
			return e.SentFrame, true
		}
	}
	return SentFrame{}, false
}

// OnSent records a sent frame. Every frame the session sends must be
// recorded, in sequence order, ACK-only frames included (with
// AckEliciting and InFlight false: those only advance the largest sent
// sequence and are never reported as acknowledged or lost). It returns [ErrSeqOrder] if f.Seq is
// not above every earlier sequence and [ErrHistoryFull] if the history
// holds Config.MaxTracked frames; on error nothing is recorded. A send
// time before the previous one is raised to it (times must not go
// backwards). It does not allocate once the history reached its size.
func (s *Sender) OnSent(f SentFrame) error {
	if s.anySent && f.Seq <= s.largestSent {
		return ErrSeqOrder
	}
	if f.Time.Before(s.lastSentTime) {
		f.Time = s.lastSentTime
	}
	if f.AckEliciting {
		f.InFlight = true
	}
	if !f.InFlight {
		// A pure ACK: nothing to retransmit and nothing to count, and the
		// peer may never acknowledge it, so it is not kept in the history
		// (it would fill it on a receive-only session). Its sequence is
		// still recorded, so an ACK naming it is valid and ignored.
		s.largestSent = f.Seq
		s.anySent = true
		s.lastSentTime = f.Time
		return nil
	}
	if !s.hist.push(f) {
		s.hist.popRemoved()
		if !s.hist.push(f) {
			return ErrHistoryFull
		}
	}
	s.largestSent = f.Seq
	s.anySent = true
	s.lastSentTime = f.Time
	if f.InFlight {
		s.bytesInFlight += f.Size
	}
	if f.AckEliciting {
		s.ackElicitingFlight++
		s.lastAckElicitingAt = f.Time
	}
	return nil
}

// OnAck processes an ACK received at now and fills res (see [AckResult]).
// It returns [ErrAckMalformed] for malformed ranges and [ErrAckInvalid] if
// the ACK names a sequence never sent; both leave the state unchanged and
// the session must close with a PROTOCOL error. Ranges may name sequences
// already acknowledged or declared lost; those are ignored.
func (s *Sender) OnAck(now time.Time, a *Ack, res *AckResult) error {
	if err := a.Validate(); err != nil {
		return err
	}
	largest := a.Ranges[0].Largest
	if !s.anySent || largest > s.largestSent {
		return ErrAckInvalid
	}
	res.reset(s.bytesInFlight)
	var (
		largestNewly   bool
		largestSentAt  time.Time
		anyEliciting   bool
		spuriousBehind uint64        // the most reordering a spurious loss showed
		spuriousAge    time.Duration // the longest a spurious loss took to be acknowledged
	)
	// Walk the ranges lowest first so res.Acked is ascending.
	for i := len(a.Ranges) - 1; i >= 0; i-- {
		r := a.Ranges[i]
		for j := s.hist.search(r.Smallest); j < s.hist.n; j++ {
			e := s.hist.at(j)
			if e.Seq > r.Largest {
				break
			}
			if e.state == stateLost {
				// Declared lost, yet it arrived: reordering.
				e.state = stateAcked
				if !e.PMTUProbe {
					res.Spurious++
				}
				spuriousBehind = max(spuriousBehind, e.lostBehind)
				spuriousAge = max(spuriousAge, now.Sub(e.Time))
				continue
			}
			if e.state != stateOutstanding {
				continue
			}
			e.state = stateAcked
			s.remove(&e.SentFrame)
			res.Acked = append(res.Acked, e.SentFrame)
			if e.AckEliciting {
				anyEliciting = true
			}
			if e.Seq == largest {
				largestNewly = true
				largestSentAt = e.Time
			}
		}
	}
	if spuriousBehind > 0 {
		s.reorder = min(max(s.reorder, spuriousBehind+spuriousBehind/4+1), MaxReorderThreshold)
		if rtt := max(s.rtt.smoothed, s.rtt.latest); rtt > 0 {
			need := int64(spuriousAge*TimeThresholdDen/rtt) + 2 // rounded up, plus an eighth
			s.timeNum = min(max(s.timeNum, need), MaxTimeThresholdNum)
		}
	}
	if !s.anyAcked || largest > s.largestAcked {
		s.largestAcked = largest
		s.anyAcked = true
	}
	if len(res.Acked) == 0 {
		s.hist.popExpired(s.keepLostSince(now))
		return nil
	}
	// RFC 9002 5.1: sample only if the largest acknowledged is newly
	// acknowledged and at least one newly acknowledged frame was
	// ack-eliciting.
	if largestNewly && anyEliciting {
		before := s.rtt.samples
		s.rtt.Update(now.Sub(largestSentAt), a.Delay)
		if s.rtt.samples != before {
			res.RTTSampled = true
			if s.firstSampleAt.IsZero() {
				s.firstSampleAt = now
			}
		}
	}
	s.detectLost(now, res)
	s.ptoCount = 0
	s.hist.popExpired(s.keepLostSince(now))
	return nil
}

// keepLostSince is the send time after which lost tombstones are kept: a
// reordered frame is acknowledged about one RTT after the later frames
// whose acknowledgement declared it lost, so two loss delays (9/4 RTT)
// after it was sent.
func (s *Sender) keepLostSince(now time.Time) time.Time {
	return now.Add(-2 * s.lossDelay())
}

// remove takes an outstanding frame out of the in-flight accounting.
func (s *Sender) remove(f *SentFrame) {
	if f.InFlight {
		s.bytesInFlight -= f.Size
	}
	if f.AckEliciting {
		s.ackElicitingFlight--
	}
}

func (h *history) front() bool {
	return h.n > 0 && h.at(0).state != stateOutstanding
}
