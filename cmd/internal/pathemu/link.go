package pathemu

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// LinkConfig describes one direction of an emulated path. The zero value is
// a perfect wire: no rate limit, no delay, no loss.
type LinkConfig struct {
	// RateBps is the bottleneck rate in bits per second of Ethernet frame
	// bytes (0: unlimited; the queue is then never used).
	RateBps uint64
	// Delay is the one-way propagation delay added after the bottleneck.
	Delay time.Duration
	// Jitter adds a uniform random delay in [-Jitter, +Jitter] per packet
	// (never making the delay negative). Packets are delivered in the order
	// of their delivery time, so jitter reorders as it does on real paths.
	Jitter time.Duration
	// QueueBytes bounds the bottleneck queue (drop-tail). With a rate and no
	// queue, QueueBDP sizes it; if both are zero the queue holds 64 KiB.
	QueueBytes int
	// QueueBDP sizes the queue in bandwidth-delay products of RTT (see
	// BDPBytes) when QueueBytes is 0.
	QueueBDP float64
	// RTT is the round-trip time the BDP refers to (default 2*Delay).
	RTT time.Duration
	// Loss is the mean probability (0..1) that a packet is dropped at
	// random before the queue.
	Loss float64
	// LossCorrelation (0..1) makes losses bursty with a two-state Markov
	// (Gilbert) chain of the same mean: the probability of losing a packet
	// right after a lost one is Loss + LossCorrelation*(1-Loss). 0 is
	// Bernoulli loss.
	LossCorrelation float64
	// Reorder is the probability (0..1) that a packet is held back by
	// ReorderDelay beyond its normal delivery time, so later packets
	// overtake it.
	Reorder float64
	// ReorderDelay is the extra delay of reordered packets (default 1 ms).
	ReorderDelay time.Duration
	// Seed seeds the link's random source (loss, jitter, reorder).
	Seed uint64
}

// ErrConfig reports a LinkConfig outside its documented ranges.
var ErrConfig = errors.New("pathemu: invalid link configuration")

// Validate checks the ranges of c.
func (c LinkConfig) Validate() error {
	prob := func(name string, p float64) error {
		if !(p >= 0 && p <= 1) {
			return fmt.Errorf("%w: %s %v outside 0..1", ErrConfig, name, p)
		}
		return nil
	}
	if err := errors.Join(prob("loss", c.Loss), prob("loss correlation", c.LossCorrelation), prob("reorder", c.Reorder)); err != nil {
		return err
	}
	if c.Delay < 0 || c.Jitter < 0 || c.QueueBytes < 0 || !(c.QueueBDP >= 0) || c.RTT < 0 || c.ReorderDelay < 0 {
		return fmt.Errorf("%w: negative delay, jitter, queue or RTT", ErrConfig)
	}
	return nil
}

// BDPBytes returns the bandwidth-delay product of rateBps over rtt in bytes.
func BDPBytes(rateBps uint64, rtt time.Duration) int {
	return int(float64(rateBps) / 8 * rtt.Seconds())
}

// Verdict is what a Link decided for one packet.
type Verdict uint8

// Verdicts.
const (
	Deliver   Verdict = iota // the packet leaves at the returned time
	DropLoss                 // random loss
	DropQueue                // the bottleneck queue was full
)

// LinkStats counts a Link's decisions.
type LinkStats struct {
	Packets, Bytes          uint64 // offered
	Delivered               uint64
	LostRandom, LostQueue   uint64
	Reordered               uint64
	MaxQueueBytes           int
	QueueDelayMax           time.Duration
	DeliveredBytes, Dropped uint64
}

// Link is one direction of an emulated path (see the package comment). It
// is a pure model: times come from the caller, and it never allocates. Not
// safe for concurrent use.
type Link struct {
	cfg      LinkConfig
	queueCap int
	rng      *rand.Rand
	linkFree time.Time // when the bottleneck finishes the packets admitted so far
	lastLost bool
	pGood    float64 // loss probability after a delivered packet
	pBad     float64 // after a lost one
	stats    LinkStats
}

// NewLink returns a Link for cfg (which must be valid).
func NewLink(cfg LinkConfig) (*Link, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.RTT == 0 {
		cfg.RTT = 2 * cfg.Delay
	}
	if cfg.ReorderDelay == 0 {
		cfg.ReorderDelay = time.Millisecond
	}
	l := &Link{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))}
	l.queueCap = cfg.QueueBytes
	if l.queueCap == 0 && cfg.QueueBDP > 0 {
		l.queueCap = int(cfg.QueueBDP * float64(BDPBytes(cfg.RateBps, cfg.RTT)))
	}
	if l.queueCap == 0 {
		l.queueCap = 64 << 10
	}
	l.queueCap = max(l.queueCap, 3000) // at least two full frames
	// Gilbert chain with mean Loss: P(loss | loss) = pBad, and pGood chosen
	// so that the stationary loss rate stays Loss.
	p := cfg.Loss
	l.pBad = p + cfg.LossCorrelation*(1-p)
	if p < 1 {
		l.pGood = p * (1 - l.pBad) / (1 - p)
	} else {
		l.pGood = 1
	}
	return l, nil
}

// QueueCap returns the bottleneck queue's size in bytes.
func (l *Link) QueueCap() int { return l.queueCap }

// Stats returns the counters so far.
func (l *Link) Stats() LinkStats { return l.stats }

// Admit decides the fate of a packet of size bytes arriving at now: dropped
// (and why), or delivered at the returned time. random is false for packets
// that must not be lost at random (the bridge passes ARP and other control
// traffic unharmed); they still queue and wait.
func (l *Link) Admit(now time.Time, size int, random bool) (time.Time, Verdict) {
	l.stats.Packets++
	l.stats.Bytes += uint64(size)
	if random && l.cfg.Loss > 0 {
		p := l.pGood
		if l.lastLost {
			p = l.pBad
		}
		lost := l.rng.Float64() < p
		l.lastLost = lost
		if lost {
			l.stats.LostRandom++
			l.stats.Dropped++
			return time.Time{}, DropLoss
		}
	}
	depart := now
	if l.cfg.RateBps > 0 {
		if l.linkFree.Before(now) {
			l.linkFree = now
		}
		queued := int(float64(l.linkFree.Sub(now)) * float64(l.cfg.RateBps) / 8 / float64(time.Second))
		if queued+size > l.queueCap {
			l.stats.LostQueue++
			l.stats.Dropped++
			return time.Time{}, DropQueue
		}
		l.stats.MaxQueueBytes = max(l.stats.MaxQueueBytes, queued+size)
		l.linkFree = l.linkFree.Add(time.Duration(float64(size) * 8 * float64(time.Second) / float64(l.cfg.RateBps)))
		depart = l.linkFree
		l.stats.QueueDelayMax = max(l.stats.QueueDelayMax, depart.Sub(now))
	}
	d := l.cfg.Delay
	if j := l.cfg.Jitter; j > 0 {
		d += time.Duration(l.rng.Int64N(int64(2*j)+1)) - j
		d = max(d, 0)
	}
	if l.cfg.Reorder > 0 && l.rng.Float64() < l.cfg.Reorder {
		d += l.cfg.ReorderDelay
		l.stats.Reordered++
	}
	l.stats.Delivered++
	l.stats.DeliveredBytes += uint64(size)
	return depart.Add(d), Deliver
}
