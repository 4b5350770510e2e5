package recovery

import (
	"errors"
	"testing"
	"time"
)

func frame(seq uint64, tm time.Time) SentFrame {
	return SentFrame{Seq: seq, Time: tm, Size: 1200, Handle: seq * 10, AckEliciting: true, InFlight: true}
}

func ack(delay time.Duration, rs ...AckRange) *Ack { return &Ack{Delay: delay, Ranges: rs} }

func mustSend(t testing.TB, s *Sender, f SentFrame) {
	t.Helper()
	if err := s.OnSent(f); err != nil {
		t.Fatalf("OnSent(%d): %v", f.Seq, err)
	}
}

func seqs(fs []SentFrame) []uint64 {
	out := make([]uint64, len(fs))
	for i, f := range fs {
		out[i] = f.Seq
	}
	return out
}

func eq(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSenderAckAndRTT(t *testing.T) {
	s := NewSender(Config{})
	for i := uint64(0); i < 4; i++ {
		mustSend(t, s, frame(i, at(time.Duration(i)*ms)))
	}
	if s.BytesInFlight() != 4800 {
		t.Fatalf("in flight %d", s.BytesInFlight())
	}
	var res AckResult
	if err := s.OnAck(at(23*ms), ack(5*ms, AckRange{2, 3}, AckRange{0, 0}), &res); err != nil {
		t.Fatal(err)
	}
	if !eq(seqs(res.Acked), []uint64{0, 2, 3}) || res.Acked[2].Handle != 30 {
		t.Fatalf("acked %v", seqs(res.Acked))
	}
	// latest = 23-3 = 20 ms, first sample.
	if !res.RTTSampled || s.RTT().Latest() != 20*ms || s.RTT().Smoothed() != 20*ms {
		t.Fatalf("rtt sampled=%v latest %v", res.RTTSampled, s.RTT().Latest())
	}
	if res.PriorInFlight != 4800 || s.BytesInFlight() != 1200 || len(res.Lost) != 0 {
		t.Fatalf("prior %d now %d lost %v", res.PriorInFlight, s.BytesInFlight(), seqs(res.Lost))
	}
	// Re-acknowledging only old frames: nothing new, no sample.
	if err := s.OnAck(at(30*ms), ack(0, AckRange{2, 3}), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Acked) != 0 || res.RTTSampled || s.RTT().Samples() != 1 {
		t.Fatal("duplicate ack took effect")
	}
}

func TestSenderRTTNeedsLargestNewlyAcked(t *testing.T) {
	s := NewSender(Config{})
	mustSend(t, s, frame(0, at(0)))
	mustSend(t, s, frame(1, at(ms)))
	var res AckResult
	if err := s.OnAck(at(10*ms), ack(0, AckRange{1, 1}), &res); err != nil {
		t.Fatal(err)
	}
	// Now 0 is acked with largest 1, which is not newly acked.
	if err := s.OnAck(at(50*ms), ack(0, AckRange{0, 1}), &res); err != nil {
		t.Fatal(err)
	}
	if res.RTTSampled || s.RTT().Samples() != 1 {
		t.Fatal("sampled although the largest was not newly acked")
	}
	// Largest newly acked but only a non-ack-eliciting in-flight frame
	// (padding): no sample.
	mustSend(t, s, SentFrame{Seq: 2, Time: at(60 * ms), Size: 30, InFlight: true})
	if err := s.OnAck(at(70*ms), ack(0, AckRange{2, 2}), &res); err != nil {
		t.Fatal(err)
	}
	if res.RTTSampled || len(res.Acked) != 1 {
		t.Fatal("sampled on a non-ack-eliciting frame")
	}
	// A pure ACK frame is not tracked: acknowledging it is valid and
	// reports nothing.
	mustSend(t, s, SentFrame{Seq: 3, Time: at(80 * ms), Size: 30})
	if err := s.OnAck(at(90*ms), ack(0, AckRange{3, 3}), &res); err != nil || len(res.Acked) != 0 || s.Outstanding() != 0 {
		t.Fatalf("ack of a pure ACK: %v %v", err, seqs(res.Acked))
	}
}

func TestSenderRejectsInvalidAcks(t *testing.T) {
	s := NewSender(Config{})
	var res AckResult
	if err := s.OnAck(at(0), ack(0, AckRange{0, 0}), &res); !errors.Is(err, ErrAckInvalid) {
		t.Fatalf("ack before any send: %v", err)
	}
	mustSend(t, s, frame(5, at(0)))
	if err := s.OnAck(at(0), ack(0, AckRange{5, 6}), &res); !errors.Is(err, ErrAckInvalid) {
		t.Fatalf("ack above largest sent: %v", err)
	}
	for _, a := range []*Ack{
		ack(0),
		ack(0, AckRange{3, 2}),
		ack(0, AckRange{4, 5}, AckRange{4, 4}),
		ack(0, AckRange{1, 1}, AckRange{3, 3}),
	} {
		if err := s.OnAck(at(0), a, &res); !errors.Is(err, ErrAckMalformed) {
			t.Fatalf("%v: %v", a.Ranges, err)
		}
	}
	if s.BytesInFlight() != 1200 {
		t.Fatal("rejected ack changed state")
	}
	if err := s.OnSent(frame(5, at(0))); !errors.Is(err, ErrSeqOrder) {
		t.Fatalf("reused seq: %v", err)
	}
}

func TestSenderPacketThreshold(t *testing.T) {
	s := NewSender(Config{})
	for i := uint64(0); i < 10; i++ {
		mustSend(t, s, frame(i, at(0)))
	}
	var res AckResult
	// Acking 4 makes 0 and 1 lost (4-1 >= 3); 2 and 3 wait for time.
	if err := s.OnAck(at(ms), ack(0, AckRange{4, 4}), &res); err != nil {
		t.Fatal(err)
	}
	if !eq(seqs(res.Lost), []uint64{0, 1}) {
		t.Fatalf("lost %v", seqs(res.Lost))
	}
	// Loss timer armed for 2: sent at 0 + 9/8 * max(srtt 1ms, latest 1ms).
	if got, want := s.Timer(), at(ms*9/8); got != want {
		t.Fatalf("loss timer %v, want %v", got.Sub(t0), want.Sub(t0))
	}
	s.OnTimeout(at(ms), &res) // early: nothing
	if len(res.Lost) != 0 || res.Probes != 0 {
		t.Fatal("early timeout acted")
	}
	s.OnTimeout(at(2*ms), &res)
	if !eq(seqs(res.Lost), []uint64{2, 3}) || res.Probes != 0 {
		t.Fatalf("time threshold lost %v", seqs(res.Lost))
	}
	if s.BytesInFlight() != 5*1200 {
		t.Fatalf("in flight %d", s.BytesInFlight())
	}
	// An ACK for a frame already declared lost is ignored (spurious loss).
	if err := s.OnAck(at(3*ms), ack(0, AckRange{0, 4}), &res); err != nil || len(res.Acked) != 0 {
		t.Fatalf("late ack of lost frames: %v %v", err, seqs(res.Acked))
	}
}

func TestSenderTimeThresholdOnAck(t *testing.T) {
	s := NewSender(Config{})
	mustSend(t, s, frame(0, at(0)))
	mustSend(t, s, frame(1, at(100*ms)))
	var res AckResult
	// RTT sample 10 ms; frame 0 is 110 ms old > 9/8*10 ms: lost.
	if err := s.OnAck(at(110*ms), ack(0, AckRange{1, 1}), &res); err != nil {
		t.Fatal(err)
	}
	if !eq(seqs(res.Lost), []uint64{0}) {
		t.Fatalf("lost %v", seqs(res.Lost))
	}
}

func TestSenderPTOBackoff(t *testing.T) {
	s := NewSender(Config{})
	mustSend(t, s, frame(0, at(0)))
	pto := s.RTT().PTO() // 325 ms before any sample
	if s.Timer() != at(pto) {
		t.Fatalf("PTO timer %v", s.Timer().Sub(t0))
	}
	var res AckResult
	now := at(pto)
	for k := 1; k <= 5; k++ {
		s.OnTimeout(now, &res)
		if res.Probes != ProbeFrames || s.PTOCount() != k {
			t.Fatalf("PTO %d: probes %d count %d", k, res.Probes, s.PTOCount())
		}
		// The next PTO is twice as long, counted from this one.
		if got, want := s.Timer().Sub(now), pto<<k; got != want {
			t.Fatalf("PTO %d: next in %v, want %v", k, got, want)
		}
		now = s.Timer()
	}
	// A probe gets acknowledged: backoff resets.
	mustSend(t, s, frame(1, now))
	if err := s.OnAck(now.Add(10*ms), ack(0, AckRange{1, 1}), &res); err != nil {
		t.Fatal(err)
	}
	if s.PTOCount() != 0 {
		t.Fatal("PTO count not reset by ACK")
	}
	// Frame 0 is far older than 9/8 RTT: lost; nothing is left in
	// flight, so no timer is armed.
	if !eq(seqs(res.Lost), []uint64{0}) || !s.Timer().IsZero() {
		t.Fatalf("lost %v, timer %v", seqs(res.Lost), s.Timer())
	}
}

func TestSenderNoTimerWithoutAckEliciting(t *testing.T) {
	s := NewSender(Config{})
	mustSend(t, s, SentFrame{Seq: 0, Time: at(0), Size: 40})
	if !s.Timer().IsZero() || s.BytesInFlight() != 0 {
		t.Fatal("timer armed for an ACK-only frame")
	}
}

func TestSenderPersistentCongestion(t *testing.T) {
	s := NewSender(Config{})
	var res AckResult
	// First RTT sample: 10 ms.
	mustSend(t, s, frame(0, at(0)))
	if err := s.OnAck(at(10*ms), ack(0, AckRange{0, 0}), &res); err != nil {
		t.Fatal(err)
	}
	// PC duration = (10 + max(4*5, 1) + 25) * 3 = 165 ms. Send 1..20,
	// one every 10 ms, all lost; ack 21.
	for i := uint64(1); i <= 21; i++ {
		mustSend(t, s, frame(i, at(10*ms+time.Duration(i)*10*ms)))
	}
	if err := s.OnAck(at(230*ms), ack(0, AckRange{21, 21}), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Lost) != 20 || !res.PersistentCongestion {
		t.Fatalf("lost %d, persistent %v", len(res.Lost), res.PersistentCongestion)
	}
	// RFC 9002 5.2: min_rtt restarts from the next sample.
	if s.RTT().Min() != 0 {
		t.Fatalf("min %v after persistent congestion", s.RTT().Min())
	}
}

func TestSenderPersistentCongestionBrokenByAck(t *testing.T) {
	s := NewSender(Config{})
	var res AckResult
	mustSend(t, s, frame(0, at(0)))
	if err := s.OnAck(at(10*ms), ack(0, AckRange{0, 0}), &res); err != nil {
		t.Fatal(err)
	}
	for i := uint64(1); i <= 21; i++ {
		mustSend(t, s, frame(i, at(10*ms+time.Duration(i)*10*ms)))
	}
	// Frame 10 (sent at 110 ms) is acknowledged: the lost spans 1..9 and
	// 11..20 are each 80-90 ms, under the 165 ms duration.
	if err := s.OnAck(at(230*ms), ack(0, AckRange{21, 21}, AckRange{10, 10}), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Lost) != 19 || res.PersistentCongestion {
		t.Fatalf("lost %d, persistent %v", len(res.Lost), res.PersistentCongestion)
	}
}

func TestSenderHistoryBound(t *testing.T) {
	s := NewSender(Config{MaxTracked: 100})
	for i := uint64(0); i < 100; i++ {
		mustSend(t, s, frame(i, at(0)))
	}
	if err := s.OnSent(frame(100, at(0))); !errors.Is(err, ErrHistoryFull) || s.CanTrack() {
		t.Fatalf("full history: %v", err)
	}
	var res AckResult
	if err := s.OnAck(at(ms), ack(0, AckRange{0, 9}), &res); err != nil {
		t.Fatal(err)
	}
	if !s.CanTrack() {
		t.Fatal("CanTrack false after acks")
	}
	mustSend(t, s, frame(100, at(ms)))
}

// TestSenderAccounting runs a long random exchange and checks the in-flight
// accounting against the history.
func TestSenderAccounting(t *testing.T) {
	s := NewSender(Config{MaxTracked: 512})
	var res AckResult
	outstanding := map[uint64]SentFrame{}
	seq := uint64(0)
	now := at(0)
	n := 20000
	if raceEnabled {
		n = 2000
	}
	acked := 0
	for i := 0; i < n; i++ {
		now = now.Add(100 * time.Microsecond)
		if s.CanTrack() && i%7 != 3 {
			f := frame(seq, now)
			f.Size = 100 + i%1000
			mustSend(t, s, f)
			outstanding[seq] = f
			seq++
		}
		if i%5 == 0 && seq > 2 {
			// Ack a window near the top, skipping one frame.
			lg := seq - 1 - uint64(i%3)
			a := ack(0, AckRange{lg - 1, lg})
			if lg >= 4 {
				a.Ranges = append(a.Ranges, AckRange{lg - 4, lg - 3})
			}
			if err := s.OnAck(now, a, &res); err != nil {
				t.Fatal(err)
			}
			for _, f := range res.Acked {
				if _, ok := outstanding[f.Seq]; !ok {
					t.Fatalf("acked %d twice", f.Seq)
				}
				delete(outstanding, f.Seq)
				acked++
			}
			for _, f := range res.Lost {
				if _, ok := outstanding[f.Seq]; !ok {
					t.Fatalf("lost %d not outstanding", f.Seq)
				}
				delete(outstanding, f.Seq)
			}
		}
		if i%50 == 0 {
			s.OnTimeout(now.Add(time.Second), &res)
			for _, f := range res.Lost {
				delete(outstanding, f.Seq)
			}
		}
		sum := 0
		for _, f := range outstanding {
			sum += f.Size
		}
		if sum != s.BytesInFlight() {
			t.Fatalf("step %d: in flight %d, model %d", i, s.BytesInFlight(), sum)
		}
	}
	if acked == 0 {
		t.Fatal("nothing acked")
	}
}

// TestSenderOldestOutstanding checks that the oldest outstanding
// ack-eliciting frame skips acknowledged, lost and non-eliciting ones.
func TestSenderOldestOutstanding(t *testing.T) {
	s := NewSender(Config{})
	t0 := time.Unix(100, 0)
	if _, ok := s.OldestOutstanding(); ok {
		t.Fatal("oldest outstanding of an empty history")
	}
	for i := uint64(1); i <= 6; i++ {
		mustSend(t, s, frame(i, t0))
	}
	var res AckResult
	// 4 and 5 acknowledged: 1 and 2 are lost by the packet threshold,
	// 3 (two below the largest acknowledged) stays outstanding.
	if err := s.OnAck(t0.Add(10*time.Millisecond), ack(0, AckRange{Smallest: 4, Largest: 5}), &res); err != nil {
		t.Fatal(err)
	}
	if !eq(seqs(res.Lost), []uint64{1, 2}) {
		t.Fatalf("lost %v", seqs(res.Lost))
	}
	f, ok := s.OldestOutstanding()
	if !ok || f.Seq != 3 || f.Handle != 30 {
		t.Fatalf("oldest outstanding = %+v, %v; want sequence 3", f, ok)
	}
	if err := s.OnAck(t0.Add(20*time.Millisecond), ack(0, AckRange{Smallest: 3, Largest: 6}), &res); err != nil {
		t.Fatal(err)
	}
	if f, ok := s.OldestOutstanding(); ok {
		t.Fatalf("oldest outstanding after everything was acknowledged or lost = %+v", f)
	}
}
