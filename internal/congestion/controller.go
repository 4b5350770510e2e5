package congestion

import (
	"time"

	"github.com/sttgo/stt/internal/recovery"
)

// Window defaults, in maximum segments (RFC 9002 7.2).
const (
	// DefaultMSS is the default maximum segment size: the 1200-byte
	// datagram stt starts with before path MTU discovery raises it.
	DefaultMSS = 1200
	// InitialWindowPackets is the initial window in segments.
	InitialWindowPackets = 10
	// MinWindowPackets is the minimum window in segments.
	MinWindowPackets = 2
	// DefaultMaxWindow caps the window in bytes (16 MiB; the recovery
	// history bound, 16384 frames, holds it at the default MSS).
	DefaultMaxWindow = 16 << 20
	// LossReductionFactor is NewReno's kLossReductionFactor.
	LossReductionFactor = 0.5
)

// Controller is a congestion control algorithm. The session calls it from
// one goroutine; implementations are not safe for concurrent use and must
// not allocate in any method. Sizes are in bytes.
type Controller interface {
	// OnPacketSent records a sent frame. inFlight is false for frames that
	// do not count toward bytes in flight (pure ACKs).
	OnPacketSent(now time.Time, seq uint64, bytes int, inFlight bool)
	// OnAcked records an acknowledged in-flight frame sent at sentTime;
	// priorInFlight is the bytes in flight before the ACK was processed.
	OnAcked(now time.Time, seq uint64, bytes int, sentTime time.Time, priorInFlight int)
	// OnLost records a lost in-flight frame. The first loss of a frame sent
	// after the last reduction is a congestion event and reduces the
	// window; later losses in the same recovery period do not.
	OnLost(now time.Time, seq uint64, bytes int, priorInFlight int)
	// OnPersistentCongestion collapses the window to the minimum (RFC 9002
	// 7.6.2). Call it after the OnLost calls for the same event.
	OnPersistentCongestion(now time.Time)
	// CanSend reports whether a new frame may be sent with bytesInFlight
	// outstanding (PTO probes bypass it). A false answer tells the
	// controller that its window limits the sender (window growth
	// depends on it): call it only when there is something to send.
	CanSend(bytesInFlight int) bool
	// Window returns the congestion window.
	Window() int
	// SetMSS changes the maximum segment size (after PMTU discovery); the
	// minimum and the window are raised to at least 2 segments.
	SetMSS(mss int)
	// InSlowStart reports whether the window is below the slow start
	// threshold.
	InSlowStart() bool
	// InRecovery reports whether a recovery period is in progress.
	InRecovery() bool
	// Reductions returns the number of congestion events that reduced the
	// window so far.
	Reductions() int
	// OnSpuriousLoss undoes the last reduction: every frame whose loss
	// caused it was acknowledged after all (reordering, not congestion).
	// The window, threshold and algorithm state return to what they were
	// just before it (never below the current window) and the recovery
	// period ends. It does nothing without a reduction to undo; a second
	// call for the same reduction does nothing either.
	OnSpuriousLoss(now time.Time)
}

// Config configures a controller. Zero fields take the defaults.
type Config struct {
	// MSS is the maximum segment size in bytes (DefaultMSS).
	MSS int
	// MaxWindow caps the window in bytes (DefaultMaxWindow).
	MaxWindow int
	// NoHyStart disables CUBIC's delay-based slow start exit.
	NoHyStart bool
	// NoFastConvergence disables CUBIC's fast convergence.
	NoFastConvergence bool
}

func (c Config) withDefaults() Config {
	if c.MSS <= 0 {
		c.MSS = DefaultMSS
	}
	if c.MaxWindow <= 0 {
		c.MaxWindow = DefaultMaxWindow
	}
	if c.MaxWindow < MinWindowPackets*c.MSS {
		c.MaxWindow = MinWindowPackets * c.MSS
	}
	return c
}

// Apply feeds one [recovery.AckResult] to c in RFC 9002's order: the lost
// frames first (OnPacketsLost, then persistent congestion), then the
// acknowledged ones (OnPacketsAcked). Frames not in flight are skipped.
func Apply(c Controller, now time.Time, res *recovery.AckResult) {
	for i := range res.Lost {
		f := &res.Lost[i]
		if f.InFlight {
			c.OnLost(now, f.Seq, f.Size, res.PriorInFlight)
		}
	}
	if res.PersistentCongestion {
		c.OnPersistentCongestion(now)
	}
	for i := range res.Acked {
		f := &res.Acked[i]
		if f.InFlight {
			c.OnAcked(now, f.Seq, f.Size, f.Time, res.PriorInFlight)
		}
	}
}
