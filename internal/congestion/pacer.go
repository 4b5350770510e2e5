package congestion

import (
	"math"
	"math/bits"
	"time"
)

// Pacing constants (RFC 9002 7.7).
const (
	// PacingGainNum / PacingGainDen is N = 1.25: the pacer sends a window
	// in 80% of the smoothed RTT, so ACK clocking is not starved by timer
	// slack.
	PacingGainNum = 5
	PacingGainDen = 4
	// BurstPackets is the smallest largest-burst the pacer allows, in
	// segments; at high rates the burst grows to cover MinPacingDelay.
	BurstPackets = 10
	// MinPacingDelay is the shortest wait the pacer asks for. Timers and
	// goroutine wake-ups cost tens of microseconds, so at rates where the
	// gap between two segments is shorter, the pacer lets a burst of
	// MinPacingDelay plus one timer granularity's worth of bytes go at once
	// and then waits at least this long: sub-millisecond waits would cap
	// the rate at one segment per wake-up instead of spreading it.
	MinPacingDelay = time.Millisecond
)

// Unlimited is the rate [Rate] returns when the RTT is unknown (zero): the
// pacer then never delays.
const Unlimited = math.MaxUint64

// Rate returns the pacing rate in bytes per second for a window of window
// bytes over a smoothed RTT srtt: window * 1.25 / srtt. It returns
// [Unlimited] if srtt <= 0, and at least 1.
func Rate(window int, srtt time.Duration) uint64 {
	if srtt <= 0 {
		return Unlimited
	}
	if window < 0 {
		window = 0
	}
	// window*1.25*1e9 / srtt without overflow: hi:lo = window*5e9.
	hi, lo := bits.Mul64(uint64(window), PacingGainNum*uint64(time.Second))
	d := uint64(srtt) * PacingGainDen
	if hi >= d {
		return Unlimited
	}
	q, _ := bits.Div64(hi, lo, d)
	return max(q, 1)
}

// Pacer is a token bucket that spreads sends at a rate the caller passes
// each time (normally [Rate] of the current window and smoothed RTT),
// allowing bursts of [BurstPackets] segments or [MinPacingDelay] plus a
// millisecond's worth of bytes, whichever is more. It never sleeps:
// [Pacer.Delay] tells the caller when to come back. The zero value is not
// ready; use [NewPacer]. Not safe for concurrent use; does not allocate.
type Pacer struct {
	mss    int
	budget int // bytes available at last
	last   time.Time
	init   bool
}

// NewPacer returns a pacer for segments of mss bytes (DefaultMSS if <= 0),
// starting with a full burst.
func NewPacer(mss int) *Pacer {
	p := &Pacer{}
	p.SetMSS(mss)
	return p
}

// SetMSS changes the segment size (the burst is BurstPackets segments).
func (p *Pacer) SetMSS(mss int) {
	if mss <= 0 {
		mss = DefaultMSS
	}
	p.mss = mss
	if p.budget > BurstPackets*mss {
		p.budget = BurstPackets * mss
	}
}

// maxBurst is the bucket size at rate: BurstPackets segments, or the bytes
// of MinPacingDelay plus one millisecond of timer slack at rate if more.
func (p *Pacer) maxBurst(rate uint64) int {
	b := BurstPackets * p.mss
	if rate == Unlimited {
		return b
	}
	const span = uint64(MinPacingDelay + time.Millisecond)
	hi, lo := bits.Mul64(rate, span)
	if hi >= uint64(time.Second) {
		return math.MaxInt32
	}
	q, _ := bits.Div64(hi, lo, uint64(time.Second))
	return int(min(max(q, uint64(b)), math.MaxInt32))
}

// Budget returns the bytes that may be sent at now at rate bytes/s.
func (p *Pacer) Budget(now time.Time, rate uint64) int {
	maxb := p.maxBurst(rate)
	if !p.init || rate == Unlimited {
		return maxb
	}
	el := now.Sub(p.last)
	if el <= 0 {
		return p.budget
	}
	// add = rate * el / 1e9, saturating.
	hi, lo := bits.Mul64(rate, uint64(el))
	if hi >= uint64(time.Second) {
		return maxb
	}
	add, _ := bits.Div64(hi, lo, uint64(time.Second))
	if p.budget >= maxb {
		return maxb // the rate fell: the bucket shrinks with it
	}
	room := uint64(maxb - p.budget)
	if add >= room {
		return maxb
	}
	return p.budget + int(add)
}

// OnSent charges bytes sent at now against the bucket. The budget may go
// negative (a frame larger than the budget, or a PTO probe); the deficit
// delays the next send.
func (p *Pacer) OnSent(now time.Time, bytes int, rate uint64) {
	b := p.Budget(now, rate)
	if p.init && now.Before(p.last) {
		now = p.last
	}
	p.budget = b - bytes
	if m := p.maxBurst(rate); p.budget < -m {
		p.budget = -m
	}
	p.last = now
	p.init = true
}

// Delay returns how long after now the caller must wait before sending
// the next full segment at rate bytes/s: 0 if one fits now, else at least
// MinPacingDelay.
func (p *Pacer) Delay(now time.Time, rate uint64) time.Duration {
	b := p.Budget(now, rate)
	if b >= p.mss || rate == Unlimited {
		return 0
	}
	need := uint64(p.mss - b)
	// ceil(need * 1e9 / rate)
	hi, lo := bits.Mul64(need, uint64(time.Second))
	if hi >= rate {
		return time.Duration(math.MaxInt64)
	}
	q, r := bits.Div64(hi, lo, rate)
	if r != 0 {
		q++
	}
	if q > math.MaxInt64 {
		return time.Duration(math.MaxInt64)
	}
	return max(time.Duration(q), MinPacingDelay)
}

// NextSend returns the earliest time at or after now when a full segment
// may be sent at rate bytes/s.
func (p *Pacer) NextSend(now time.Time, rate uint64) time.Time {
	return now.Add(p.Delay(now, rate))
}
