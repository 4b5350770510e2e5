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
)

// hystart is a "lite" HyStart++ (RFC 9406): per round trip it takes the
// minimum of the RTT samples, and leaves slow start when a round's minimum
// (after at least 8 samples) exceeds the previous round's by
// clamp(prev/8, 4 ms, 16 ms), i.e. when the bottleneck queue starts to
// grow. It skips HyStart++'s conservative slow start phase: the exit goes
// straight to congestion avoidance, which CUBIC's concave region makes
// gentle anyway.
type hystart struct {
	roundEnd     uint64
	roundStarted bool
	lastMin      time.Duration // previous round's minimum, 0 = none
	curMin       time.Duration
	samples      int
	seenSamples  uint64
}

// onAck reports whether slow start should end. seq is the acknowledged
// frame, largestSent the largest sequence sent so far.
func (h *hystart) onAck(seq, largestSent uint64, rtt *recovery.RTTStats) bool {
	if !h.roundStarted {
		h.roundStarted = true
		h.roundEnd = largestSent
	}
	exit := false
	if n := rtt.Samples(); n != h.seenSamples {
		h.seenSamples = n
		l := rtt.Latest()
		if h.curMin == 0 || l < h.curMin {
			h.curMin = l
		}
		h.samples++
		if h.samples >= hyNRTTSample && h.lastMin > 0 {
			eta := min(max(h.lastMin/hyMinRTTDivisor, hyMinRTTThresh), hyMaxRTTThresh)
			if h.curMin >= h.lastMin+eta {
				exit = true
			}
		}
	}
	if seq >= h.roundEnd {
		// The round ends: start the next one.
		if h.curMin > 0 {
			h.lastMin = h.curMin
		}
		h.curMin = 0
		h.samples = 0
		h.roundEnd = largestSent
	}
	return exit
}

func (h *hystart) reset() { *h = hystart{} }
