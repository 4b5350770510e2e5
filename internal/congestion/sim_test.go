package congestion

import (
	"container/heap"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sttgo/stt/internal/recovery"
)

// This file is a deterministic discrete-event simulation of bulk senders
// over one bottleneck: a FIFO link of rate R bytes/s with a tail-drop
// buffer, a fixed one-way propagation delay each way (RTT D without
// queueing), and random loss of data frames drawn from a seeded PCG. ACKs
// travel back without loss or queueing. Each flow runs the real
// recovery.Sender, recovery.Receiver, a Controller and a Pacer, driven
// only by the simulated clock: nothing depends on wall-clock time.

type simEventKind uint8

const (
	evWake     simEventKind = iota // sender timer / pacer wake-up
	evArrive                       // data frame reaches the receiver
	evAck                          // ACK reaches the sender
	evAckTimer                     // receiver's delayed-ACK timer
)

type simEvent struct {
	at   time.Time
	id   uint64
	kind simEventKind
	f    *simFlow
	seq  uint64
	ack  recovery.Ack
}

type simQueue []*simEvent

func (q simQueue) Len() int { return len(q) }
func (q simQueue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].id < q[j].id
}
func (q simQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *simQueue) Push(x any)   { *q = append(*q, x.(*simEvent)) }
func (q *simQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

type simPath struct {
	rate     uint64        // bottleneck, bytes/s
	owd      time.Duration // one-way propagation delay
	buffer   int           // bottleneck queue, bytes
	loss     float64       // random loss probability of data frames
	rng      *rand.Rand
	linkFree time.Time
	drops    int
}

type simFlow struct {
	id    int
	snd   *recovery.Sender
	cc    Controller
	pacer *Pacer
	rcv   *recovery.Receiver
	res   recovery.AckResult
	seq   uint64
	start time.Time

	wakeAt     time.Time
	ackTimerAt time.Time

	measureFrom time.Time
	goodput     int // bytes newly acknowledged after measureFrom
	sent, lost  int
	reductions  []time.Time
	lastRed     int
	minWindow   int
	probes      int
	pcEvents    int
}

type sim struct {
	t      *testing.T
	now    time.Time
	q      simQueue
	nextID uint64
	path   simPath
	flows  []*simFlow
}

func newSim(t *testing.T, rate uint64, rtt time.Duration, bufferBDP float64, loss float64, seed uint64) *sim {
	s := &sim{t: t, now: t0}
	s.path = simPath{
		rate:   rate,
		owd:    rtt / 2,
		buffer: int(bufferBDP * float64(rate) * rtt.Seconds()),
		loss:   loss,
		rng:    rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
	}
	if s.path.buffer < 4*DefaultMSS {
		s.path.buffer = 4 * DefaultMSS
	}
	return s
}

func (s *sim) addFlow(start time.Time, mk func(*recovery.RTTStats) Controller) *simFlow {
	snd := recovery.NewSender(recovery.Config{})
	f := &simFlow{
		id:        len(s.flows),
		snd:       snd,
		cc:        mk(snd.RTT()),
		pacer:     NewPacer(DefaultMSS),
		rcv:       recovery.NewReceiver(0),
		start:     start,
		minWindow: math.MaxInt,
	}
	s.flows = append(s.flows, f)
	s.schedule(&simEvent{at: start, kind: evWake, f: f})
	f.wakeAt = start
	return f
}

func (s *sim) schedule(e *simEvent) {
	e.id = s.nextID
	s.nextID++
	heap.Push(&s.q, e)
}

func (s *sim) wake(f *simFlow, at time.Time) {
	if at.IsZero() {
		return
	}
	if !f.wakeAt.IsZero() && !at.Before(f.wakeAt) {
		return
	}
	f.wakeAt = at
	s.schedule(&simEvent{at: at, kind: evWake, f: f})
}

// run processes events until end.
func (s *sim) run(end time.Time) {
	for s.q.Len() > 0 {
		e := heap.Pop(&s.q).(*simEvent)
		if e.at.After(end) {
			heap.Push(&s.q, e)
			break
		}
		s.now = e.at
		f := e.f
		switch e.kind {
		case evWake:
			if !e.at.Equal(f.wakeAt) {
				continue // superseded by an earlier wake-up
			}
			f.wakeAt = time.Time{}
			s.process(f)
		case evArrive:
			f.rcv.OnReceived(s.now, e.seq, true)
			s.maybeAck(f)
		case evAckTimer:
			if e.at.Equal(f.ackTimerAt) {
				f.ackTimerAt = time.Time{}
				s.maybeAck(f)
			}
		case evAck:
			if err := f.snd.OnAck(s.now, &e.ack, &f.res); err != nil {
				s.t.Fatalf("flow %d: OnAck: %v", f.id, err)
			}
			s.account(f)
			s.process(f)
		}
		s.check(f)
	}
	s.now = end
}

func (s *sim) maybeAck(f *simFlow) {
	if f.rcv.AckDue(s.now) {
		e := &simEvent{at: s.now.Add(s.path.owd), kind: evAck, f: f}
		f.rcv.WriteAck(s.now, &e.ack)
		s.schedule(e)
		return
	}
	if d := f.rcv.AckDeadline(); !d.IsZero() && (f.ackTimerAt.IsZero() || d.Before(f.ackTimerAt)) {
		f.ackTimerAt = d
		s.schedule(&simEvent{at: d, kind: evAckTimer, f: f})
	}
}

// account feeds f.res to the controller and updates the statistics.
func (s *sim) account(f *simFlow) {
	Apply(f.cc, s.now, &f.res)
	if !s.now.Before(f.measureFrom) {
		for _, a := range f.res.Acked {
			f.goodput += a.Size
		}
	}
	f.lost += len(f.res.Lost)
	if f.res.PersistentCongestion {
		// Apply collapsed the window to the minimum, then the ACKed
		// frames (sent after the cutback) may grow it in slow start by
		// at most their size.
		acked := 0
		for _, a := range f.res.Acked {
			acked += a.Size
		}
		f.pcEvents++
		if w := f.cc.Window(); w > MinWindowPackets*DefaultMSS+acked {
			s.t.Fatalf("flow %d: window %d after persistent congestion (acked %d)", f.id, w, acked)
		}
	}
	if r := reductions(f.cc); r != f.lastRed {
		f.lastRed = r
		f.reductions = append(f.reductions, s.now)
	}
}

// process runs the sender: timers, probes, then sends while the window
// and the pacer allow, and arms the next wake-up.
func (s *sim) process(f *simFlow) {
	if tm := f.snd.Timer(); !tm.IsZero() && !s.now.Before(tm) {
		f.snd.OnTimeout(s.now, &f.res)
		s.account(f)
		for i := 0; i < f.res.Probes; i++ {
			f.probes++
			s.send(f)
		}
	}
	for f.cc.CanSend(f.snd.BytesInFlight()) && f.snd.CanTrack() {
		rate := PacingRate(f.cc, f.snd.RTT().Smoothed())
		if d := f.pacer.Delay(s.now, rate); d > 0 {
			s.wake(f, s.now.Add(d))
			break
		}
		s.send(f)
	}
	s.wake(f, f.snd.Timer())
}

func (s *sim) send(f *simFlow) {
	seq := f.seq
	f.seq++
	fr := recovery.SentFrame{Seq: seq, Time: s.now, Size: DefaultMSS, Handle: seq, AckEliciting: true, InFlight: true}
	if err := f.snd.OnSent(fr); err != nil {
		s.t.Fatalf("flow %d: OnSent: %v", f.id, err)
	}
	f.cc.OnPacketSent(s.now, seq, DefaultMSS, true)
	f.pacer.OnSent(s.now, DefaultMSS, PacingRate(f.cc, f.snd.RTT().Smoothed()))
	f.sent++
	p := &s.path
	if p.loss > 0 && p.rng.Float64() < p.loss {
		p.drops++
		return
	}
	if p.linkFree.Before(s.now) {
		p.linkFree = s.now
	}
	queued := int(uint64(p.linkFree.Sub(s.now)) * p.rate / uint64(time.Second))
	if queued+DefaultMSS > p.buffer {
		p.drops++
		return
	}
	p.linkFree = p.linkFree.Add(time.Duration(uint64(DefaultMSS) * uint64(time.Second) / p.rate))
	s.schedule(&simEvent{at: p.linkFree.Add(p.owd), kind: evArrive, f: f, seq: seq})
}

func (s *sim) check(f *simFlow) {
	w := f.cc.Window()
	if w < MinWindowPackets*DefaultMSS {
		s.t.Fatalf("flow %d: window %d below the minimum at %v", f.id, w, s.now.Sub(t0))
	}
	f.minWindow = min(f.minWindow, w)
}

// checkReductionSpacing asserts the recovery period: two reductions are at
// least one base RTT apart (a reduction needs the loss of a frame sent
// after the previous one, detected by a later ACK).
func checkReductionSpacing(t *testing.T, f *simFlow, rtt time.Duration) {
	t.Helper()
	for i := 1; i < len(f.reductions); i++ {
		if gap := f.reductions[i].Sub(f.reductions[i-1]); gap < rtt {
			t.Fatalf("flow %d: reductions %d and %d only %v apart (RTT %v)", f.id, i-1, i, gap, rtt)
		}
	}
}

func cubicMaker(r *recovery.RTTStats) Controller { return NewCubic(r, Config{}) }
func renoMaker(r *recovery.RTTStats) Controller  { return NewNewReno(Config{}) }
func bbrMaker(r *recovery.RTTStats) Controller   { return NewBBR(r, Config{}) }
func simSeconds(normal, race time.Duration) time.Duration {
	if raceEnabled {
		return race
	}
	return normal
}

// mathis returns the Mathis et al. (1997) steady-state throughput of a
// Reno-like AIMD flow under random loss p, in bytes/s:
// MSS/RTT * sqrt(3/2) / sqrt(p). CUBIC's Reno-friendly region is
// designed to match it at small BDPs (RFC 9438 4.3), and exceeds it at
// large ones.
func mathis(rtt time.Duration, p float64) float64 {
	return float64(DefaultMSS) / rtt.Seconds() * math.Sqrt(1.5) / math.Sqrt(p)
}

// TestSimThroughputNoLoss: on clean paths the flow fills the bottleneck.
func TestSimThroughputNoLoss(t *testing.T) {
	cases := []struct {
		name string
		rate uint64
		rtt  time.Duration
		mk   func(*recovery.RTTStats) Controller
	}{
		{"cubic-10Mbit-20ms", 1_250_000, 20 * ms, cubicMaker},
		{"cubic-100Mbit-10ms", 12_500_000, 10 * ms, cubicMaker},
		{"cubic-1Gbit-1ms", 125_000_000, 1 * ms, cubicMaker},
		{"newreno-10Mbit-20ms", 1_250_000, 20 * ms, renoMaker},
		{"bbr-10Mbit-20ms", 1_250_000, 20 * ms, bbrMaker},
		{"bbr-100Mbit-10ms", 12_500_000, 10 * ms, bbrMaker},
		{"bbr-1Gbit-1ms", 125_000_000, 1 * ms, bbrMaker},
		{"cubic-1Gbit-20ms", 125_000_000, 20 * ms, cubicMaker},
		{"bbr-1Gbit-20ms", 125_000_000, 20 * ms, bbrMaker},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dur := simSeconds(10*time.Second, 2*time.Second)
			if c.rate > 100_000_000 {
				dur = simSeconds(2*time.Second, 500*ms)
			}
			s := newSim(t, c.rate, c.rtt, 1, 0, 1)
			f := s.addFlow(t0, c.mk)
			// Measure after slow start: a quarter of the run, plus ten
			// round trips (the race detector's short runs would
			// otherwise count the ramp of the 20 ms paths).
			from := dur/4 + 10*c.rtt
			f.measureFrom = t0.Add(from)
			s.run(t0.Add(dur))
			got := float64(f.goodput) / (dur - from).Seconds()
			frac := got / float64(c.rate)
			t.Logf("goodput %.0f B/s = %.3f of R; sent %d, bottleneck drops %d, reductions %d, probes %d, final window %d",
				got, frac, f.sent, s.path.drops, len(f.reductions), f.probes, f.cc.Window())
			// Tail-drop losses at the buffer cost at most a few
			// percent; with a 1-BDP buffer the link never idles long.
			if frac < 0.9 {
				t.Fatalf("goodput %.3f of the bottleneck, want >= 0.9", frac)
			}
			checkReductionSpacing(t, f, c.rtt)
		})
	}
}
