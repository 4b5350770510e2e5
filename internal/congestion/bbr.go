package congestion

import (
	"math"
	"time"

	"github.com/sttgo/stt/internal/recovery"
)

// BBR constants (draft-ietf-ccwg-bbr, BBRv3, with BBRv1's gain cycle).
const (
	bbrStartupPacingGain = 2.77 // 4 ln 2: doubles the delivery rate every round
	bbrStartupCwndGain   = 2.0
	bbrDrainPacingGain   = 0.35 // drains the startup queue in about one round
	bbrCwndGain          = 2.0
	bbrLossThresh        = 0.02 // a round losing more is "inflight too high"
	// bbrLossSigma: a round's loss rate counts as above bbrLossThresh only
	// if it exceeds it by this many standard deviations of the binomial
	// count (see lossTooHigh).
	bbrLossSigma = 2
	// bbrStartupLossEvents is the fewest losses in a round that end
	// Startup (BBRv3's full_loss_cnt); elsewhere two.
	bbrStartupLossEvents = 6
	bbrBeta              = 0.7  // multiplicative cut of inflight_hi on such a round
	bbrBWRounds          = 10   // bandwidth filter window, in round trips
	bbrFullBWGrowth      = 1.25 // startup: the pipe is full when bw grows less
	bbrFullBWRounds      = 3    // for this many rounds
	bbrMinCwndPackets    = 4
	bbrProbeRTTInterval  = 5 * time.Second
	bbrProbeRTTDuration  = 200 * time.Millisecond
	bbrStaleRecord       = 2 * time.Second // a frame never reported is forgotten after this
	bbrMaxRecords        = 1 << 15
	// bbrTimerRTT: below this minimum RTT BBR does not pace at its model's
	// rate (see PacingRate).
	bbrTimerRTT = 2 * MinPacingDelay
	// Startup also ends when the RTT shows a standing queue: at least
	// bbrQueueSamples consecutive RTT samples above min_rtt plus a quarter
	// of it (at least bbrQueueMin), spanning at least a quarter of min_rtt
	// (see sampleRTT).
	bbrQueueMin     = 4 * time.Millisecond
	bbrQueueSamples = 8
)

// bbrCycle is ProbeBW's pacing gain cycle (BBRv1): probe up by a quarter,
// drain what that queued, cruise six rounds.
var bbrCycle = [8]float64{1.25, 0.75, 1, 1, 1, 1, 1, 1}

type bbrMode uint8

const (
	bbrStartup bbrMode = iota
	bbrDrain
	bbrProbeBW
	bbrProbeRTT
)

// BBR is a model-based congestion controller in the manner of BBR (version
// 3 in its loss response): it estimates the bottleneck bandwidth (a
// windowed maximum of delivery-rate samples over 10 round trips) and the
// minimum RTT (refreshed by a ProbeRTT phase every 5 s), paces at a gain
// times the bandwidth, and bounds the window at twice the bandwidth-delay
// product. Random loss below 2% of a round's deliveries does not change
// the window; a round that loses more cuts the inflight bound (inflight_hi)
// by 30% and ends a bandwidth probe, and the bound is raised again while
// probing finds no such loss. Startup doubles the rate each round until the
// bandwidth stops growing by a quarter for three rounds, a round loses too
// much, or the RTT shows a standing queue (see sampleRTT), Drain removes
// the queue Startup built, and ProbeBW cycles its pacing gain through 1.25,
// 0.75 and 1 to find more bandwidth and give up the queue again.
//
// It implements [PacingRater] (the stream layer paces at its rate instead of
// the window over the RTT) and [AppLimitedNoter]. Use [NewBBR].
type BBR struct {
	rtt   *recovery.RTTStats
	cfg   Config
	mss   int
	epoch time.Time
	began bool

	ring        sentRing
	outstanding int   // records not yet acknowledged or lost
	delivered   int64 // bytes acknowledged so far
	delivTime   int64
	firstSent   int64
	appLimited  int64 // samples are app-limited until delivered passes this

	mode        bbrMode
	pacingGain  float64
	cwndGain    float64
	bw          maxFilter
	round       uint64
	nextRound   int64 // delivered count that ends the round
	roundStart  bool
	filledPipe  bool
	fullBW      float64
	fullBWCount int

	minRTT        time.Duration
	queueRTTs     int   // consecutive RTT samples showing a queue (Startup)
	queueSince    int64 // when the first of them was taken
	minRTTStamp   int64
	probeRTTDone  int64 // 0: not yet at the ProbeRTT window
	probeRTTRound bool
	priorCwnd     int

	cycleIdx   int
	cycleStamp int64
	rng        uint64

	inflightHi    int // 0: no bound
	roundLost     int64
	roundLossEv   int
	roundDeliv0   int64
	upRounds      int
	reductions    int
	undoHi        int
	undoable      bool
	cwnd          int
	pacingRate    float64
	lastInFlight  int
	maxBurstBytes int
}

// NewBBR returns a BBR controller reading the smoothed RTT from rtt (used
// only before the first bandwidth sample).
func NewBBR(rtt *recovery.RTTStats, cfg Config) *BBR {
	c := &BBR{rtt: rtt, cfg: cfg.withDefaults()}
	c.mss = c.cfg.MSS
	c.ring.max = bbrMaxRecords
	c.cwnd = min(InitialWindowPackets*c.mss, c.cfg.MaxWindow)
	c.enterStartup()
	return c
}

func (c *BBR) clock(now time.Time) int64 {
	if !c.began {
		c.began, c.epoch = true, now
		c.rng = uint64(now.UnixNano()) | 1
	}
	return int64(now.Sub(c.epoch))
}

func (c *BBR) enterStartup() {
	c.mode, c.pacingGain, c.cwndGain = bbrStartup, bbrStartupPacingGain, bbrStartupCwndGain
}

func (c *BBR) minCwnd() int { return bbrMinCwndPackets * c.mss }

// BDP returns the estimated bandwidth-delay product in bytes (0 before
// the first samples).
func (c *BBR) BDP() int {
	bw := c.bw.get()
	if bw == 0 || c.minRTT == 0 {
		return 0
	}
	return int(bw * c.minRTT.Seconds())
}

// Bandwidth returns the bottleneck bandwidth estimate in bytes per second.
func (c *BBR) Bandwidth() float64 { return c.bw.get() }

// MinRTT returns the minimum RTT estimate.
func (c *BBR) MinRTT() time.Duration { return c.minRTT }

// OnPacketSent implements [Controller].
func (c *BBR) OnPacketSent(now time.Time, seq uint64, bytes int, inFlight bool) {
	if !inFlight {
		return
	}
	t := c.clock(now)
	if c.outstanding == 0 {
		// Nothing in flight: a new flight starts (after idle, the
		// delivery rate must not count the idle time).
		c.firstSent, c.delivTime = t, t
	}
	if c.ring.push(sentRecord{seq: seq, delivered: c.delivered, delivTime: c.delivTime, firstSent: c.firstSent,
		sent: t, size: int32(bytes), appLimited: c.appLimited > c.delivered}) {
		c.outstanding--
	}
	c.outstanding++
}

// OnAppLimited implements [AppLimitedNoter]: the sender has nothing to send
// with inFlight bytes outstanding, so delivery-rate samples until those are
// delivered measure the application, not the path.
func (c *BBR) OnAppLimited(inFlight int) {
	c.appLimited = max(c.delivered+int64(inFlight), 1)
}

// OnAcked implements [Controller].
func (c *BBR) OnAcked(now time.Time, seq uint64, bytes int, sentTime time.Time, priorInFlight int) {
	t := c.clock(now)
	c.delivered += int64(bytes)
	c.delivTime = t
	c.roundStart = false
	if r := c.ring.find(seq); r != nil && !r.done {
		r.done = true
		c.outstanding--
		c.firstSent = r.sent
		if r.delivered >= c.nextRound {
			c.endRound()
		}
		c.sampleRTT(t, time.Duration(t-r.sent))
		interval := max(r.sent-r.firstSent, t-r.delivTime)
		if interval > 0 && (c.minRTT == 0 || time.Duration(interval) >= c.minRTT/2) {
			rate := float64(c.delivered-r.delivered) * 1e9 / float64(interval)
			if !r.appLimited || rate >= c.bw.get() {
				c.bw.update(rate, c.round)
			}
		}
	}
	c.outstanding -= c.ring.popDone(t - nanos(bbrStaleRecord))
	c.lastInFlight = priorInFlight - bytes
	c.updateState(t, priorInFlight)
	c.setCwnd(bytes)
	c.setPacingRate()
}

// sampleRTT keeps the minimum RTT, letting a sample replace it once it is
// older than the ProbeRTT interval. In Startup it ends the phase when the
// samples show a standing queue of a quarter of min_rtt (at least
// bbrQueueMin) for a quarter of min_rtt, at least bbrQueueSamples samples
// in a row.
//
// The bandwidth plateau (three rounds without 25% growth) comes too late on
// a path with a one-BDP drop-tail queue: Startup's window, twice a
// bandwidth estimate that lags a round, fills the queue and keeps growing
// for the rounds the plateau takes, rounds that the queue itself
// lengthens. The queue shows in the RTT a round earlier, when the delivery
// rate is already the bottleneck's, so the estimate Drain and ProbeBW go
// on with is the same. (Chromium's BBRv2 ends Startup on a persistent
// queue in the same way, measured in bytes in flight.) Requiring the span
// keeps a burst of late samples that arrive together, after a receiver
// or a middlebox stalled for a moment, from ending Startup.
func (c *BBR) sampleRTT(t int64, rtt time.Duration) {
	if rtt <= 0 {
		return
	}
	if c.mode == bbrStartup && c.minRTT > 0 && rtt > c.minRTT+max(c.minRTT/4, bbrQueueMin) {
		if c.queueRTTs == 0 {
			c.queueSince = t
		}
		if c.queueRTTs++; c.queueRTTs >= bbrQueueSamples && time.Duration(t-c.queueSince) >= c.minRTT/4 {
			c.filledPipe = true
		}
	} else {
		c.queueRTTs = 0
	}
	if c.minRTT == 0 || rtt <= c.minRTT || (c.mode == bbrProbeRTT && c.probeRTTDone != 0) {
		c.minRTT = rtt
		c.minRTTStamp = t
	}
}

// endRound closes a round trip: loss response, startup's full-pipe check.
func (c *BBR) endRound() {
	c.roundStart = true
	c.round++
	c.nextRound = c.delivered
	tooHigh := c.lossTooHigh(c.delivered - c.roundDeliv0)
	if tooHigh {
		base := c.cwnd
		if c.inflightHi > 0 {
			base = min(base, c.inflightHi)
		}
		c.undoHi, c.undoable = c.inflightHi, true
		c.inflightHi = max(int(bbrBeta*float64(base)), c.minCwnd())
		c.reductions++
		c.upRounds = 0
		if c.mode == bbrStartup {
			c.filledPipe = true
		}
		if c.mode == bbrProbeBW && c.pacingGain > 1 {
			c.setCycle(1) // stop probing up
		}
	} else if c.inflightHi > 0 && c.mode == bbrProbeBW && c.lastInFlight+c.mss >= c.inflightHi {
		// Limited by the bound and no excessive loss: probe it upward,
		// faster each round (BBRv3's inflight_hi growth).
		c.inflightHi += c.mss << min(c.upRounds, 10)
		c.upRounds++
		if bdp := c.BDP(); bdp > 0 && c.inflightHi > 4*bdp {
			c.inflightHi = 0 // far above the model: no bound
		}
	}
	c.roundLost, c.roundLossEv, c.roundDeliv0 = 0, 0, c.delivered
	if c.mode == bbrStartup && !c.filledPipe && c.appLimited <= c.delivered {
		bw := c.bw.get()
		if bw >= c.fullBW*bbrFullBWGrowth {
			c.fullBW, c.fullBWCount = bw, 0
		} else if c.fullBWCount++; c.fullBWCount >= bbrFullBWRounds {
			c.filledPipe = true
		}
	}
}

// lossTooHigh reports whether the round that delivered deliv bytes lost
// too much: more than bbrLossThresh of what it sent, by a margin of
// bbrLossSigma standard deviations of the loss count a path losing exactly
// bbrLossThresh would show (sqrt(thresh * frames)), and at least two
// losses (bbrStartupLossEvents in Startup).
//
// The margin is what keeps random loss below the threshold from looking
// like congestion in small rounds: with 1% random loss a round of 60 frames
// loses two or more (3.3%, "above 2%") one round in eight, and each such
// round cut inflight_hi by 30%; on the emulated 20 ms, 1 Gbit/s path with
// 1% loss the window never left 50-200 kB (a BDP is 2.5 MB), and in the
// simulator at 100 Mbit/s, 20 ms, 1% loss BBR ran at 30-90% of the link
// depending on the seed. Congestion losses (a queue overflowing) come in
// bursts far above the margin.
func (c *BBR) lossTooHigh(deliv int64) bool {
	minEvents := 2
	if c.mode == bbrStartup {
		minEvents = bbrStartupLossEvents
	}
	if c.roundLossEv < minEvents {
		return false
	}
	sent := float64(deliv + c.roundLost)
	expect := bbrLossThresh * sent
	margin := bbrLossSigma * math.Sqrt(expect*float64(c.mss))
	return float64(c.roundLost) > expect+margin
}

// updateState runs the mode transitions after an acknowledgement.
func (c *BBR) updateState(t int64, priorInFlight int) {
	switch c.mode {
	case bbrStartup:
		if c.filledPipe {
			c.mode, c.pacingGain, c.cwndGain = bbrDrain, bbrDrainPacingGain, bbrStartupCwndGain
		}
	case bbrDrain:
		if priorInFlight <= c.BDP() {
			c.enterProbeBW(t)
		}
	case bbrProbeBW:
		c.advanceCycle(t, priorInFlight)
	}
	if c.mode != bbrProbeRTT && c.minRTT > 0 && time.Duration(t-c.minRTTStamp) > bbrProbeRTTInterval {
		c.mode, c.pacingGain, c.cwndGain = bbrProbeRTT, 1, 1
		c.priorCwnd = max(c.priorCwnd, c.cwnd)
		c.probeRTTDone = 0
	}
	if c.mode == bbrProbeRTT {
		c.handleProbeRTT(t, priorInFlight)
	}
}

func (c *BBR) enterProbeBW(t int64) {
	c.mode, c.cwndGain = bbrProbeBW, bbrCwndGain
	// Start anywhere but the drain phase, so flows do not synchronise.
	c.rng ^= c.rng << 13
	c.rng ^= c.rng >> 7
	c.rng ^= c.rng << 17
	i := int(c.rng % 7)
	if i >= 1 {
		i++
	}
	c.cycleIdx = i
	c.cycleStamp = t
	c.pacingGain = bbrCycle[i]
}

func (c *BBR) setCycle(i int) {
	c.cycleIdx = i
	c.pacingGain = bbrCycle[i]
}

// advanceCycle moves ProbeBW to its next gain once the phase has lasted a
// minimum RTT (probing up: and the queue it wanted is there, or loss; probing
// down: or the queue is gone).
func (c *BBR) advanceCycle(t int64, priorInFlight int) {
	el := time.Duration(t - c.cycleStamp)
	full := el > c.minRTT
	switch g := c.pacingGain; {
	case g > 1:
		full = full && (c.roundLossEv > 0 || priorInFlight >= int(g*float64(c.BDP())) || el > 4*c.minRTT)
	case g < 1:
		full = full || priorInFlight <= c.BDP()
	}
	if full {
		c.cycleStamp = t
		c.setCycle((c.cycleIdx + 1) % len(bbrCycle))
	}
}

// handleProbeRTT holds the window at half the BDP for 200 ms and one round,
// then restores it.
func (c *BBR) handleProbeRTT(t int64, priorInFlight int) {
	target := max(c.BDP()/2, c.minCwnd())
	if c.probeRTTDone == 0 {
		if priorInFlight <= target {
			c.probeRTTDone = t + nanos(bbrProbeRTTDuration)
			c.probeRTTRound = false
			c.nextRound = c.delivered
		}
		return
	}
	if c.roundStart {
		c.probeRTTRound = true
	}
	if c.probeRTTRound && t >= c.probeRTTDone {
		c.minRTTStamp = t
		c.cwnd = max(c.cwnd, c.priorCwnd)
		c.priorCwnd = 0
		if c.filledPipe {
			c.enterProbeBW(t)
		} else {
			c.enterStartup()
		}
	}
}

// setCwnd sets the window from the model after acked bytes.
func (c *BBR) setCwnd(acked int) {
	bdp := c.BDP()
	target := int(c.cwndGain*float64(bdp)) + 3*c.mss + c.maxBurstBytes
	switch {
	case bdp == 0:
		c.cwnd += acked // no model yet: slow start
	case c.filledPipe:
		c.cwnd = min(c.cwnd+acked, target)
	case c.cwnd < target || c.delivered < int64(InitialWindowPackets*c.mss):
		c.cwnd += acked
	}
	if c.inflightHi > 0 {
		c.cwnd = min(c.cwnd, c.inflightHi)
	}
	if c.mode == bbrProbeRTT {
		c.cwnd = min(c.cwnd, max(bdp/2, c.minCwnd()))
	}
	c.cwnd = min(max(c.cwnd, c.minCwnd()), c.cfg.MaxWindow)
}

// setPacingRate paces at the gain times the bandwidth (1% under, so the
// bottleneck queue drains), or at the startup gain over the window and the
// smoothed RTT before the first sample. In Startup the rate never falls.
func (c *BBR) setPacingRate() {
	bw := c.bw.get()
	var r float64
	if bw == 0 || c.minRTT == 0 {
		r = c.pacingGain * float64(c.cwnd) / max(c.rtt.Smoothed(), time.Millisecond).Seconds()
	} else {
		r = c.pacingGain * bw * 0.99
	}
	if c.mode == bbrStartup && !c.filledPipe {
		r = max(r, c.pacingRate)
	}
	c.pacingRate = r
	// Room in the window for what the pacer sends in one burst (about 2
	// ms at this rate), so that bursts do not make the sender window-bound.
	c.maxBurstBytes = int(r * 0.002)
}

// PacingRate implements [PacingRater] (bytes per second; 0 before any
// estimate: the caller then paces by the window).
//
// It is also 0 while the minimum RTT is under bbrTimerRTT (2 ms): a pacer
// woken by user-space timers of about a millisecond cannot spread a window
// over so short a round trip, and pacing at the model's rate then loses
// whatever the timers oversleep (measured between two processes over veth,
// RTT 1-2 ms, CPU-bound: 184-239 MB/s paced at the model's rate, 197-264
// MB/s paced by the window, in runs as noisy as the machine). The window
// (twice the BDP) still bounds the queue.
func (c *BBR) PacingRate() uint64 {
	if c.pacingRate <= 0 || math.IsInf(c.pacingRate, 0) || math.IsNaN(c.pacingRate) {
		return 0
	}
	if c.minRTT > 0 && c.minRTT < bbrTimerRTT {
		return 0
	}
	return uint64(c.pacingRate)
}

// OnLost implements [Controller]: losses are counted toward the round's
// loss rate; the response waits for the round's end (see BBR).
func (c *BBR) OnLost(now time.Time, seq uint64, bytes int, priorInFlight int) {
	t := c.clock(now)
	if r := c.ring.find(seq); r != nil && !r.done {
		r.done = true
		c.outstanding--
	}
	c.roundLost += int64(bytes)
	c.roundLossEv++
	c.outstanding -= c.ring.popDone(t - nanos(bbrStaleRecord))
}

// OnPersistentCongestion implements [Controller]: the window collapses to
// the minimum (RFC 9002 7.6.2); the model is kept and the window grows
// back to it as acknowledgements return.
func (c *BBR) OnPersistentCongestion(now time.Time) {
	c.undoable = false
	c.priorCwnd = max(c.priorCwnd, c.cwnd)
	c.cwnd = c.minCwnd()
}

// OnSpuriousLoss implements [Controller]: the last cut of the inflight
// bound is undone.
func (c *BBR) OnSpuriousLoss(now time.Time) {
	if !c.undoable {
		return
	}
	c.inflightHi = c.undoHi
	c.undoable = false
}

// CanSend implements [Controller].
func (c *BBR) CanSend(bytesInFlight int) bool { return bytesInFlight < c.cwnd }

// Window implements [Controller].
func (c *BBR) Window() int { return c.cwnd }

// SetMSS implements [Controller].
func (c *BBR) SetMSS(mss int) {
	if mss <= 0 {
		return
	}
	c.mss = mss
	c.cwnd = max(c.cwnd, c.minCwnd())
}

// InSlowStart implements [Controller]: true in Startup.
func (c *BBR) InSlowStart() bool { return c.mode == bbrStartup }

// InRecovery implements [Controller]: BBR has no recovery period.
func (c *BBR) InRecovery() bool { return false }

// Reductions implements [Controller]: the cuts of the inflight bound.
func (c *BBR) Reductions() int { return c.reductions }
