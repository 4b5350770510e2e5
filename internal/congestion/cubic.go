package congestion

import (
	"math"
	"time"

	"github.com/sttgo/stt/internal/recovery"
)

// CUBIC constants (RFC 9438 section 4).
const (
	// CubicBeta is β_cubic, the multiplicative decrease factor.
	CubicBeta = 0.7
	// CubicC is C, the cubic scaling constant in segments/s^3.
	CubicC = 0.4
	// cubicAlpha is α_cubic = 3(1-β)/(1+β), the Reno-friendly additive
	// increase per RTT while the estimate is below the last maximum.
	cubicAlpha = 3 * (1 - CubicBeta) / (1 + CubicBeta)
)

// Cubic is the CUBIC congestion controller of RFC 9438 with fast
// convergence, the Reno-friendly region, and a HyStart++-style slow start
// exit (see hystart). The window math runs in float64 segments; Window
// reports bytes. Use [NewCubic].
type Cubic struct {
	w   window
	rtt *recovery.RTTStats
	cfg Config
	hy  hystart

	cubicState
	undo      cubicState // the state before the last reduction (OnSpuriousLoss)
	undoable  bool
	ssthresh0 int // the slow start threshold before the last reduction
}

// cubicState is the part of Cubic a reduction changes.
type cubicState struct {
	cwnd       float64 // bytes, fractional growth kept
	wMax       float64 // segments: window before the last reduction
	k          float64 // seconds
	epochStart time.Time
	wEst       float64 // segments: Reno-friendly estimate
}

// NewCubic returns a CUBIC controller reading RTTs from rtt (which must
// outlive it; normally [recovery.Sender.RTT]).
func NewCubic(rtt *recovery.RTTStats, cfg Config) *Cubic {
	c := &Cubic{rtt: rtt, cfg: cfg.withDefaults()}
	c.w.init(c.cfg)
	c.cwnd = float64(c.w.cwnd)
	return c
}

// New returns the default controller (DefaultName).
func New(rtt *recovery.RTTStats, cfg Config) Controller { return NewByName(DefaultName, rtt, cfg) }

func (c *Cubic) seg() float64 { return float64(c.w.mss) }

func (c *Cubic) sync() {
	c.w.cwnd = int(c.cwnd)
	c.w.clamp()
	if float64(c.w.cwnd) != math.Trunc(c.cwnd) {
		c.cwnd = float64(c.w.cwnd)
	}
}

// OnPacketSent implements [Controller].
func (c *Cubic) OnPacketSent(now time.Time, seq uint64, bytes int, inFlight bool) {
	c.w.onSent(seq)
}

// OnAcked implements [Controller].
func (c *Cubic) OnAcked(now time.Time, seq uint64, bytes int, sentTime time.Time, priorInFlight int) {
	if c.w.ackInRecovery(seq) {
		return
	}
	ss := c.InSlowStart()
	if !c.w.cwndLimited(seq, priorInFlight, ss) {
		// Application-limited: do not grow, and restart the cubic
		// epoch so an idle or slow application does not let t run on
		// and the window jump when data resumes (RFC 9438 5.8).
		c.epochStart = time.Time{}
		return
	}
	if ss && !c.cfg.NoHyStart && c.hy.onAck(now, c.rtt) {
		// Leave slow start without a loss: the current window is the
		// plateau CUBIC grows from (RFC 9438 4.10).
		c.w.ssthresh = c.w.cwnd
		return
	}
	if ss {
		c.cwnd += float64(bytes)
		c.sync()
		return
	}
	c.avoid(now, bytes)
}

// avoid is the congestion avoidance step of RFC 9438 4.2-4.4.
func (c *Cubic) avoid(now time.Time, bytes int) {
	mss := c.seg()
	cw := c.cwnd / mss
	if c.epochStart.IsZero() {
		c.epochStart = now
		c.wEst = cw
		if c.wMax < cw {
			// No reduction yet (slow start ended by HyStart or the
			// threshold): grow from the current window.
			c.wMax = cw
		}
		c.k = math.Cbrt((c.wMax - cw) / CubicC)
	}
	rtt := c.rtt.Smoothed()
	t := now.Sub(c.epochStart).Seconds()
	acked := float64(bytes) / mss

	// Reno-friendly estimate (4.3).
	alpha := cubicAlpha
	if c.wEst >= c.wMax {
		alpha = 1
	}
	c.wEst += alpha * acked / cw

	wCubic := c.cubicAt(t)
	if wCubic < c.wEst {
		// Reno-friendly region: track the estimate.
		if c.wEst > cw {
			c.cwnd = c.wEst * mss
		}
	} else {
		target := c.cubicAt(t + rtt.Seconds())
		target = min(max(target, cw), 1.5*cw)
		c.cwnd += (target - cw) / cw * acked * mss
	}
	c.sync()
}

// cubicAt returns W_cubic(t) = C*(t-K)^3 + W_max in segments.
func (c *Cubic) cubicAt(t float64) float64 {
	d := t - c.k
	return CubicC*d*d*d + c.wMax
}

// OnLost implements [Controller].
func (c *Cubic) OnLost(now time.Time, seq uint64, bytes int, priorInFlight int) {
	if !c.w.congestionEvent(seq) {
		return
	}
	c.undo, c.undoable, c.ssthresh0 = c.cubicState, true, c.w.ssthresh
	cw := c.cwnd / c.seg()
	if !c.cfg.NoFastConvergence && cw < c.wMax {
		// Fast convergence (4.7): release bandwidth to newer flows.
		c.wMax = cw * (1 + CubicBeta) / 2
	} else {
		c.wMax = cw
	}
	c.cwnd *= CubicBeta
	c.sync()
	c.w.ssthresh = c.w.cwnd
	c.epochStart = time.Time{}
}

// OnSpuriousLoss implements [Controller].
func (c *Cubic) OnSpuriousLoss(now time.Time) {
	if !c.undoable {
		return
	}
	cur := c.cwnd
	c.cubicState = c.undo
	c.cwnd = max(c.cwnd, cur)
	c.w.ssthresh = c.ssthresh0
	c.w.inRecovery = false
	c.undoable = false
	c.sync()
}

// OnPersistentCongestion implements [Controller].
func (c *Cubic) OnPersistentCongestion(now time.Time) {
	c.undoable = false
	c.cwnd = float64(c.w.minWindow())
	c.sync()
	c.w.inRecovery = false
	c.epochStart = time.Time{}
	c.hy.reset()
}

// CanSend implements [Controller].
func (c *Cubic) CanSend(bytesInFlight int) bool { return c.w.canSend(bytesInFlight) }

// Window implements [Controller].
func (c *Cubic) Window() int { return c.w.cwnd }

// SetMSS implements [Controller].
func (c *Cubic) SetMSS(mss int) {
	c.w.setMSS(mss)
	c.cwnd = float64(c.w.cwnd)
	c.epochStart = time.Time{}
}

// InSlowStart implements [Controller].
func (c *Cubic) InSlowStart() bool { return c.w.cwnd < c.w.ssthresh }

// InRecovery implements [Controller].
func (c *Cubic) InRecovery() bool { return c.w.inRecovery }

// Reductions returns the number of congestion events that reduced the
// window.
func (c *Cubic) Reductions() int { return c.w.reductions }
