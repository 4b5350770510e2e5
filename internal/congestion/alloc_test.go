package congestion

import (
	"testing"
	"time"

	"github.com/sttgo/stt/internal/recovery"
)

// pipeline is one direction of a session's reliability core on a fake
// clock: recovery.Sender + Controller + Pacer on the sending side and a
// recovery.Receiver on the other, with a fixed 1 ms one-way delay and one
// frame in 64 lost.
type pipeline struct {
	snd   *recovery.Sender
	cc    Controller
	pacer *Pacer
	rcv   *recovery.Receiver
	res   recovery.AckResult
	ack   recovery.Ack
	seq   uint64
	now   time.Time
}

func newPipeline(cc func(*recovery.RTTStats) Controller) *pipeline {
	snd := recovery.NewSender(recovery.Config{})
	p := &pipeline{snd: snd, cc: cc(snd.RTT()), pacer: NewPacer(DefaultMSS), rcv: recovery.NewReceiver(0), now: t0}
	for i := 0; i < 2000; i++ {
		p.step()
	}
	return p
}

// step sends up to two frames as window and pacer allow, then delivers
// the receiver's ACK (if due) and runs the loss timer.
func (p *pipeline) step() {
	p.now = p.now.Add(20 * time.Microsecond)
	for k := 0; k < 2; k++ {
		rate := PacingRate(p.cc, p.snd.RTT().Smoothed())
		if !p.cc.CanSend(p.snd.BytesInFlight()) || !p.snd.CanTrack() || p.pacer.Delay(p.now, rate) > 0 {
			break
		}
		f := recovery.SentFrame{Seq: p.seq, Time: p.now, Size: DefaultMSS, Handle: p.seq, AckEliciting: true, InFlight: true}
		if err := p.snd.OnSent(f); err != nil {
			panic(err)
		}
		p.cc.OnPacketSent(p.now, p.seq, DefaultMSS, true)
		p.pacer.OnSent(p.now, DefaultMSS, rate)
		if p.seq%64 != 13 {
			p.rcv.OnReceived(p.now.Add(time.Millisecond), p.seq, true)
		}
		p.seq++
	}
	at := p.now.Add(2 * time.Millisecond)
	if p.rcv.AckDue(at) {
		p.rcv.WriteAck(at, &p.ack)
		// The receiver's ranges are trimmed once the ACK is sent, as a
		// session does after an ACK of its ACK; keeps ACKs small.
		if lg, ok := p.rcv.Ranges().Largest(); ok && lg > 256 {
			p.rcv.Ranges().DropBelow(lg - 256)
		}
		if err := p.snd.OnAck(at, &p.ack, &p.res); err != nil {
			panic(err)
		}
		Apply(p.cc, at, &p.res)
	}
	if tm := p.snd.Timer(); !tm.IsZero() && !p.now.Before(tm) {
		p.snd.OnTimeout(p.now, &p.res)
		Apply(p.cc, p.now, &p.res)
	}
}

func TestAllocsPipeline(t *testing.T) {
	for name, mk := range map[string]func(*recovery.RTTStats) Controller{"cubic": cubicMaker, "newreno": renoMaker, "bbr": bbrMaker} {
		p := newPipeline(mk)
		before := p.seq
		if n := testing.AllocsPerRun(2000, p.step); n != 0 {
			t.Fatalf("%s: %v allocs per step, want 0", name, n)
		}
		if p.seq == before {
			t.Fatalf("%s: nothing sent during the measurement", name)
		}
	}
}

func TestAllocsPacerAndController(t *testing.T) {
	rtt := recovery.NewRTTStats(0, 0)
	c := NewCubic(rtt, Config{})
	p := NewPacer(0)
	seq := uint64(0)
	now := t0
	n := testing.AllocsPerRun(1000, func() {
		now = now.Add(time.Millisecond)
		rate := Rate(c.Window(), rtt.Smoothed())
		_ = p.Delay(now, rate)
		p.OnSent(now, DefaultMSS, rate)
		c.OnPacketSent(now, seq, DefaultMSS, true)
		c.OnAcked(now, seq, DefaultMSS, now, c.Window())
		if seq%100 == 99 {
			c.OnLost(now, seq, DefaultMSS, c.Window())
		}
		seq++
	})
	if n != 0 {
		t.Fatalf("%v allocs, want 0", n)
	}
}

func BenchmarkPipelineStep(b *testing.B) {
	for _, bc := range []struct {
		name string
		mk   func(*recovery.RTTStats) Controller
	}{{"cubic", cubicMaker}, {"newreno", renoMaker}, {"bbr", bbrMaker}} {
		b.Run(bc.name, func(b *testing.B) {
			p := newPipeline(bc.mk)
			b.ReportAllocs()
			for b.Loop() {
				p.step()
			}
		})
	}
}

func BenchmarkCubicOnAcked(b *testing.B) {
	rtt := recovery.NewRTTStats(0, 0)
	rtt.Update(10*ms, 0)
	c := NewCubic(rtt, Config{NoHyStart: true})
	c.OnPacketSent(t0, 0, DefaultMSS, true)
	c.OnLost(t0, 0, DefaultMSS, c.Window())
	now := t0
	seq := uint64(1)
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Microsecond)
		c.OnPacketSent(now, seq, DefaultMSS, true)
		c.OnAcked(now, seq, DefaultMSS, now, c.Window())
		seq++
	}
}

func BenchmarkPacer(b *testing.B) {
	p := NewPacer(DefaultMSS)
	rate := Rate(1<<20, 10*ms)
	now := t0
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Microsecond)
		if p.Delay(now, rate) == 0 {
			p.OnSent(now, DefaultMSS, rate)
		}
	}
}
