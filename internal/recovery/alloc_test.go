package recovery

import (
	"testing"
	"time"
)

// steady is a sender/receiver pair exchanging frames over a fake clock:
// every call sends two frames, loses one frame in 50, and processes the
// receiver's ACK, as a session does in steady state.
type steady struct {
	s   *Sender
	r   *Receiver
	res AckResult
	ack Ack
	seq uint64
	now time.Time
	// trim drops receiver ranges more than 256 below the largest;
	// without it every ACK carries all 32 ranges (the worst case).
	trim bool
}

func newSteady(trim bool) *steady {
	st := &steady{s: NewSender(Config{}), r: NewReceiver(0), now: t0, trim: trim}
	// Warm up so the history ring and the result slices reach their size.
	for i := 0; i < 1000; i++ {
		st.step()
	}
	return st
}

func (st *steady) step() {
	for k := 0; k < 2; k++ {
		st.now = st.now.Add(50 * time.Microsecond)
		f := SentFrame{Seq: st.seq, Time: st.now, Size: 1200, Handle: st.seq, AckEliciting: true, InFlight: true}
		if err := st.s.OnSent(f); err != nil {
			panic(err)
		}
		if st.seq%50 != 7 {
			st.r.OnReceived(st.now.Add(time.Millisecond), st.seq, true)
		}
		st.seq++
	}
	ackAt := st.now.Add(2 * time.Millisecond)
	if st.r.AckDue(ackAt) {
		st.r.WriteAck(ackAt, &st.ack)
		if st.trim {
			// As a session does once its ACK was acknowledged.
			if lg, ok := st.r.Ranges().Largest(); ok && lg > 256 {
				st.r.Ranges().DropBelow(lg - 256)
			}
		}
		if err := st.s.OnAck(ackAt, &st.ack, &st.res); err != nil {
			panic(err)
		}
	}
	if t := st.s.Timer(); !t.IsZero() && !ackAt.Before(t) {
		st.s.OnTimeout(ackAt, &st.res)
	}
}

func TestAllocsSteadyState(t *testing.T) {
	for _, trim := range []bool{true, false} {
		st := newSteady(trim)
		if n := testing.AllocsPerRun(1000, st.step); n != 0 {
			t.Fatalf("steady state (trim %v): %v allocs per step, want 0", trim, n)
		}
		if st.s.Outstanding() > 200 {
			t.Fatalf("history grew to %d", st.s.Outstanding())
		}
	}
}

// BenchmarkSenderReceiverStep: two frames sent, received and acknowledged
// per op, one frame in 50 lost; ACKs carry about 6 ranges.
func BenchmarkSenderReceiverStep(b *testing.B) {
	st := newSteady(true)
	b.ReportAllocs()
	for b.Loop() {
		st.step()
	}
}

// BenchmarkSenderReceiverStep32Ranges is the worst case: every ACK
// carries the full 32 ranges.
func BenchmarkSenderReceiverStep32Ranges(b *testing.B) {
	st := newSteady(false)
	b.ReportAllocs()
	for b.Loop() {
		st.step()
	}
}

// BenchmarkOnSentOnAck measures the sender alone: one OnSent per frame
// and one two-frame ACK per two frames.
func BenchmarkOnSentOnAck(b *testing.B) {
	s := NewSender(Config{})
	var res AckResult
	a := Ack{Ranges: make([]AckRange, 1, MaxRanges)}
	now := t0
	seq := uint64(0)
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(10 * time.Microsecond)
		_ = s.OnSent(SentFrame{Seq: seq, Time: now, Size: 1200, AckEliciting: true})
		if seq%2 == 1 {
			a.Ranges[0] = AckRange{Smallest: seq - 1, Largest: seq}
			if err := s.OnAck(now.Add(time.Millisecond), &a, &res); err != nil {
				b.Fatal(err)
			}
		}
		seq++
	}
}

func BenchmarkRangesAddInOrder(b *testing.B) {
	var s Ranges
	seq := uint64(0)
	b.ReportAllocs()
	for b.Loop() {
		s.Add(seq)
		seq++
	}
}

func BenchmarkRangesAddReordered(b *testing.B) {
	var s Ranges
	seq := uint64(0)
	b.ReportAllocs()
	for b.Loop() {
		// Pairs arrive swapped: 1,0,3,2,...
		s.Add(seq ^ 1)
		seq++
	}
}
