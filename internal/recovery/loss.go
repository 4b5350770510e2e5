package recovery

import "time"

// lossDelay returns max(TimeThreshold * max(smoothed, latest),
// Granularity) (9/8 unless reordering raised it).
func (s *Sender) lossDelay() time.Duration {
	d := s.rtt.smoothed
	if s.rtt.latest > d {
		d = s.rtt.latest
	}
	d = d * time.Duration(s.timeNum) / TimeThresholdDen
	if d < Granularity {
		d = Granularity
	}
	return d
}

// persistentDuration is the persistent congestion duration of RFC 9002
// 7.6.1: (smoothed + max(4*rttvar, Granularity) + max_ack_delay) * 3.
func (s *Sender) persistentDuration() time.Duration {
	return s.rtt.PTO() * PersistentCongestionThreshold
}

// detectLost declares lost every outstanding frame at or below the largest
// acknowledged that is PacketThreshold sequences older or older than the
// loss delay (RFC 9002 6.1), appends them to res.Lost, arms the loss timer
// for the earliest frame not yet lost, and sets res.PersistentCongestion.
//
// Because sequences and send times both increase along the history, the
// frames lost form a prefix of the outstanding frames below the largest
// acknowledged: the walk stops at the first survivor. Acknowledged
// tombstones met on the way break a persistent congestion run (RFC 9002
// 7.6.2: no frame sent between the two lost ones may be acknowledged).
func (s *Sender) detectLost(now time.Time, res *AckResult) {
	s.lossTime = time.Time{}
	if !s.anyAcked {
		return
	}
	delay := s.lossDelay()
	lostBefore := now.Add(-delay)
	pcDur := s.persistentDuration()
	var runStart time.Time
	for j := 0; j < s.hist.n; j++ {
		e := s.hist.at(j)
		if e.Seq > s.largestAcked {
			break
		}
		switch e.state {
		case stateAcked:
			runStart = time.Time{}
			continue
		case stateLost:
			continue
		}
		if !e.Time.After(lostBefore) || s.largestAcked-e.Seq >= s.reorder {
			e.state = stateLost
			e.lostBehind = s.largestAcked - e.Seq
			s.remove(&e.SentFrame)
			res.Lost = append(res.Lost, e.SentFrame)
			if e.AckEliciting && !e.PMTUProbe && !s.firstSampleAt.IsZero() && e.Time.After(s.firstSampleAt) {
				if runStart.IsZero() {
					runStart = e.Time
				} else if e.Time.Sub(runStart) > pcDur {
					res.PersistentCongestion = true
				}
			}
			continue
		}
		s.lossTime = e.Time.Add(delay)
		break
	}
	if res.PersistentCongestion {
		s.rtt.ResetMin()
	}
}

// PTO returns the current probe timeout including exponential backoff:
// [RTTStats.PTO] * 2^backoff, where backoff counts consecutive PTOs since
// the last ACK that acknowledged something.
func (s *Sender) PTO() time.Duration {
	n := s.ptoCount
	if n > MaxPTOBackoff {
		n = MaxPTOBackoff
	}
	return s.rtt.PTO() << n
}

// PTOCount returns the number of consecutive PTOs (the backoff exponent).
func (s *Sender) PTOCount() int { return s.ptoCount }

// Timer returns when the caller must call [Sender.OnTimeout]: the loss
// time if a frame awaits the time threshold, otherwise the PTO deadline
// (last ack-eliciting send + PTO) while ack-eliciting frames are in
// flight, otherwise the zero time (no timer).
func (s *Sender) Timer() time.Time {
	if !s.lossTime.IsZero() {
		return s.lossTime
	}
	if s.ackElicitingFlight == 0 {
		return time.Time{}
	}
	return s.lastAckElicitingAt.Add(s.PTO())
}

// OnTimeout runs the loss detection timer at now (RFC 9002 6.2 and A.9).
// If the loss time has passed it declares the waiting frames lost (into
// res.Lost, with res.PersistentCongestion); if the PTO has passed it
// doubles the backoff and sets res.Probes to [ProbeFrames]; if the timer
// has not expired it does nothing. res is reset as in [Sender.OnAck].
func (s *Sender) OnTimeout(now time.Time, res *AckResult) {
	res.reset(s.bytesInFlight)
	t := s.Timer()
	if t.IsZero() || now.Before(t) {
		return
	}
	if !s.lossTime.IsZero() {
		s.detectLost(now, res)
		s.hist.popExpired(s.keepLostSince(now))
		return
	}
	if s.ptoCount < MaxPTOBackoff {
		s.ptoCount++
	}
	// The next PTO counts from now, even if the caller sends no probe.
	s.lastAckElicitingAt = now
	res.Probes = ProbeFrames
}
