package congestion

import (
	"time"

	"github.com/sttgo/stt/internal/recovery"
)

// HyStart++ constants (RFC 9406 section 4.3).
const (
	hyMinRTTThresh  = 4 * time.Millisecond
	hyMaxRTTThresh  = 16 * time.Millisecond
	hyMinRTTDivisor = 8
	hyNRTTSample    = 8
	// hyWindowDivisor: a sample window lasts at least min_rtt / 4.
	hyWindowDivisor = 4
)

// hystart is a delay-based slow start exit after HyStart++ (RFC 9406): it
// leaves slow start once the queueing delay at the bottleneck exceeds
// eta = clamp(min_rtt/8, 4 ms, 16 ms), skipping HyStart++'s conservative
// slow start phase (CUBIC's concave region is gentle anyway).
//
// It differs from RFC 9406 in what it compares. HyStart++ compares the
// minimum RTT of a whole round with the previous round's; in slow start
// the first frames of a round leave while the previous round's queue has
// drained, so a round's minimum is the base RTT until the window is twice
// the path's BDP, and on a path buffering one BDP the exit comes only after
// the tail drops it is meant to avoid (measured on the emulated 20 ms,
// 1 Gbit/s path: slow start ran to 4 BDPs and lost 5000 frames). Here the
// samples are taken in consecutive windows of at least hyNRTTSample samples
// and min_rtt/4, and slow start ends when a whole window's minimum lies eta
// above the connection's min_rtt: the queue has been above eta for a
// quarter of a round, which a few late ACKs (a descheduled receiver) do not
// fake. Only samples taken while the window is in use count (an
// application-limited sender's delayed ACKs are no queue).
//
// The delay signal is one round trip old when it arrives and slow start
// doubles the window in that round, so on a path buffering one BDP some
// tail drops remain (in the simulator of 20 ms, 1 Gbit/s: 1700 instead of
// 6000, one window reduction instead of three). Capping the window at the
// delivered rate on exit was tried and is worse there: the drops come
// anyway and the reduction on top leaves the link idle.
type hystart struct {
	winStart    time.Time
	winMin      time.Duration
	winSamples  int
	seenSamples uint64
}

// onAck takes the RTT sample of an acknowledgement at now, if it brought a
// new one, and reports whether slow start should end.
func (h *hystart) onAck(now time.Time, rtt *recovery.RTTStats) bool {
	n := rtt.Samples()
	if n == h.seenSamples {
		return false
	}
	h.seenSamples = n
	base := rtt.Min()
	if base <= 0 {
		return false // min_rtt was reset (persistent congestion)
	}
	l := rtt.Latest()
	if h.winSamples == 0 {
		h.winStart, h.winMin = now, l
	}
	h.winMin = min(h.winMin, l)
	h.winSamples++
	d := now.Sub(h.winStart)
	if h.winSamples < hyNRTTSample || d < base/hyWindowDivisor {
		return false
	}
	h.winSamples = 0
	eta := min(max(base/hyMinRTTDivisor, hyMinRTTThresh), hyMaxRTTThresh)
	return h.winMin >= base+eta
}

func (h *hystart) reset() { *h = hystart{} }
