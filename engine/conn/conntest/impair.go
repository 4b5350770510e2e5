package conntest

import (
	"container/heap"
	"math/rand/v2"
	"net/netip"
	"time"
)

// Impairment describes what a link does to the datagrams crossing it. The
// zero value is a perfect link.
type Impairment struct {
	// Loss is the probability (0 to 1) that a datagram is dropped.
	Loss float64
	// Duplicate is the probability that a datagram is delivered twice.
	Duplicate float64
	// Reorder is the probability that a datagram is held back and released
	// after ReorderGap later datagrams of the link have passed (or after
	// ReorderTimeout without traffic, or at Network.Flush). Held-back
	// datagrams are never lost by reordering.
	Reorder float64
	// ReorderGap is how many later datagrams overtake a held one (default 3).
	ReorderGap int
	// ReorderTimeout releases held datagrams when the link goes quiet
	// (default 10 ms).
	ReorderTimeout time.Duration
	// Delay is added to every datagram's delivery.
	Delay time.Duration
	// Jitter adds a uniformly drawn extra delay in [0, Jitter); datagrams
	// may then overtake each other, as with netem.
	Jitter time.Duration
	// Rate limits the link to this many bytes per second (0: unlimited).
	// Datagrams queue behind each other; beyond Config.MaxInFlight they are
	// dropped (Overflow).
	Rate int64
}

func (imp *Impairment) validate() error {
	ok := func(p float64) bool { return p >= 0 && p <= 1 }
	if !ok(imp.Loss) || !ok(imp.Duplicate) || !ok(imp.Reorder) || imp.ReorderGap < 0 ||
		imp.ReorderTimeout < 0 || imp.Delay < 0 || imp.Jitter < 0 || imp.Rate < 0 {
		return ErrBadImpairment
	}
	return nil
}

func (imp *Impairment) gap() int {
	if imp.ReorderGap <= 0 {
		return 3
	}
	return imp.ReorderGap
}

func (imp *Impairment) holdTimeout() time.Duration {
	if imp.ReorderTimeout <= 0 {
		return 10 * time.Millisecond
	}
	return imp.ReorderTimeout
}

func (imp *Impairment) timed() bool { return imp.Delay > 0 || imp.Jitter > 0 || imp.Rate > 0 }

// LinkStats counts what happened to the datagrams of one direction.
type LinkStats struct {
	// Sent counts datagrams handed to the link (after GSO splitting).
	Sent uint64
	// Delivered counts datagrams put into the destination's queue
	// (duplicates included).
	Delivered uint64
	// Lost counts datagrams dropped by Loss.
	Lost uint64
	// Duplicated counts extra copies made by Duplicate.
	Duplicated uint64
	// Reordered counts datagrams held back by Reorder.
	Reordered uint64
	// Overflow counts datagrams dropped because MaxInFlight was reached.
	Overflow uint64
	// QueueDropped counts datagrams dropped at a full receive queue.
	QueueDropped uint64
	// NoRoute counts datagrams to an address nobody listens on.
	NoRoute uint64
}

type linkKey struct{ from, to netip.AddrPort }

// packet is a datagram waiting on a link (held back or scheduled).
type packet struct {
	buf  []byte
	at   time.Time // scheduled delivery
	seq  uint64    // tie-break: send order
	wait int       // held: later datagrams still to pass
}

// link is the state of one direction. Guarded by Network.mu.
type link struct {
	key      linkKey
	rng      *rand.Rand
	imp      Impairment
	explicit bool
	stats    LinkStats

	free      []*packet // bounded by MaxInFlight
	inflight  int       // held + scheduled
	held      []*packet
	heldTimer *time.Timer
	sched     schedule
	timer     *time.Timer
	busyUntil time.Time // rate limit: when the link is free again
	seq       uint64
}

func (l *link) impairment(n *Network) *Impairment {
	if l.explicit {
		return &l.imp
	}
	return &n.def
}

// send applies the impairments to one datagram. Called with n.mu held.
func (l *link) send(n *Network, data []byte) {
	imp := l.impairment(n)
	l.stats.Sent++
	// Always four draws, so changing one setting does not shift the others.
	rLoss, rDup, rReo, rJit := l.rng.Float64(), l.rng.Float64(), l.rng.Float64(), l.rng.Float64()
	if rLoss < imp.Loss {
		l.stats.Lost++
		return
	}
	copies := 1
	if rDup < imp.Duplicate {
		copies = 2
		l.stats.Duplicated++
	}
	for c := range copies {
		if c == 0 && rReo < imp.Reorder {
			p := l.alloc(n, data)
			if p == nil {
				continue
			}
			l.stats.Reordered++
			p.wait = imp.gap()
			l.held = append(l.held, p)
			l.armHeld(n, imp)
			continue
		}
		l.forward(n, imp, data, rJit)
		l.passHeld(n, imp, rJit)
	}
}

// forward delivers now, or schedules when the link has delay or a rate.
func (l *link) forward(n *Network, imp *Impairment, data []byte, rJit float64) {
	if !imp.timed() {
		n.deliver(l, data)
		return
	}
	p := l.alloc(n, data)
	if p == nil {
		return
	}
	l.schedule(n, imp, p, rJit)
}

func (l *link) schedule(n *Network, imp *Impairment, p *packet, rJit float64) {
	t := now()
	dep := t
	if imp.Rate > 0 {
		if l.busyUntil.After(dep) {
			dep = l.busyUntil
		}
		dep = dep.Add(time.Duration(float64(len(p.buf)) / float64(imp.Rate) * float64(time.Second)))
		l.busyUntil = dep
	}
	p.at = dep.Add(imp.Delay + time.Duration(rJit*float64(imp.Jitter)))
	l.seq++
	p.seq = l.seq
	heap.Push(&l.sched, p)
	l.armSched(n, t)
}

// alloc takes a packet for data, or counts Overflow and returns nil.
func (l *link) alloc(n *Network, data []byte) *packet {
	if l.inflight >= n.cfg.MaxInFlight {
		l.stats.Overflow++
		return nil
	}
	l.inflight++
	var p *packet
	if k := len(l.free); k > 0 {
		p = l.free[k-1]
		l.free = l.free[:k-1]
	} else {
		p = &packet{}
	}
	p.buf = append(p.buf[:0], data...)
	return p
}

func (l *link) release(p *packet) {
	l.inflight--
	l.free = append(l.free, p)
}

// passHeld counts one datagram overtaking the held ones and releases those
// whose gap is used up, in hold order.
func (l *link) passHeld(n *Network, imp *Impairment, rJit float64) {
	if len(l.held) == 0 {
		return
	}
	k := 0
	for _, p := range l.held {
		p.wait--
		if p.wait > 0 {
			l.held[k] = p
			k++
			continue
		}
		l.sendHeld(n, imp, p, rJit)
	}
	clear(l.held[k:])
	l.held = l.held[:k]
}

// sendHeld forwards a released datagram (the packet is reused when the link
// has delay).
func (l *link) sendHeld(n *Network, imp *Impairment, p *packet, rJit float64) {
	if imp.timed() {
		l.schedule(n, imp, p, rJit)
		return
	}
	n.deliver(l, p.buf)
	l.release(p)
}

// releaseHeld forwards every held datagram (timeout or Flush).
func (l *link) releaseHeld(n *Network) {
	imp := l.impairment(n)
	for _, p := range l.held {
		l.sendHeld(n, imp, p, 0)
	}
	clear(l.held)
	l.held = l.held[:0]
}

func (l *link) armHeld(n *Network, imp *Impairment) {
	d := imp.holdTimeout()
	if l.heldTimer == nil {
		l.heldTimer = time.AfterFunc(d, func() {
			n.mu.Lock()
			defer n.mu.Unlock()
			if !n.closed {
				l.releaseHeld(n)
			}
		})
		return
	}
	l.heldTimer.Reset(d)
}

// armSched sets the link timer to the earliest scheduled delivery.
func (l *link) armSched(n *Network, t time.Time) {
	if len(l.sched) == 0 {
		return
	}
	d := l.sched[0].at.Sub(t)
	if l.timer == nil {
		l.timer = time.AfterFunc(d, func() { l.fire(n) })
		return
	}
	l.timer.Reset(d)
}

// fire delivers every scheduled datagram that is due.
func (l *link) fire(n *Network) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return
	}
	t := now()
	for len(l.sched) > 0 && !l.sched[0].at.After(t) {
		p := heap.Pop(&l.sched).(*packet)
		n.deliver(l, p.buf)
		l.release(p)
	}
	l.armSched(n, t)
}

// schedule is a min-heap of packets by (at, seq).
type schedule []*packet

func (s schedule) Len() int { return len(s) }
func (s schedule) Less(i, j int) bool {
	if s[i].at.Equal(s[j].at) {
		return s[i].seq < s[j].seq
	}
	return s[i].at.Before(s[j].at)
}
func (s schedule) Swap(i, j int) { s[i], s[j] = s[j], s[i] }
func (s *schedule) Push(x any)   { *s = append(*s, x.(*packet)) }
func (s *schedule) Pop() any {
	old := *s
	p := old[len(old)-1]
	old[len(old)-1] = nil
	*s = old[:len(old)-1]
	return p
}
