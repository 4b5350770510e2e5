package recovery

import (
	"testing"
	"time"
)

// TestAdaptiveReorderThreshold: frames declared lost by the packet
// threshold and acknowledged afterwards are reported as spurious, and the
// threshold grows to cover the reordering seen, so the same reordering no
// longer declares frames lost; real losses are still found by time.
func TestAdaptiveReorderThreshold(t *testing.T) {
	s := NewSender(Config{})
	now := t0
	var res AckResult
	for seq := uint64(0); seq <= 20; seq++ {
		mustSend(t, s, frame(seq, now))
	}
	now = now.Add(10 * time.Millisecond)
	if err := s.OnAck(now, ack(0, AckRange{5, 20}), &res); err != nil {
		t.Fatal(err)
	}
	if !eq(seqs(res.Lost), []uint64{0, 1, 2, 3, 4}) || s.ReorderThreshold() != PacketThreshold {
		t.Fatalf("lost %v, threshold %d", seqs(res.Lost), s.ReorderThreshold())
	}
	// The "lost" frames arrive after all: reordering by up to 20.
	now = now.Add(time.Millisecond)
	if err := s.OnAck(now, ack(0, AckRange{0, 20}), &res); err != nil {
		t.Fatal(err)
	}
	if res.Spurious != 5 || len(res.Acked) != 0 {
		t.Fatalf("spurious %d, acked %v", res.Spurious, seqs(res.Acked))
	}
	if th := s.ReorderThreshold(); th != 26 { // 20 + 20/4 + 1
		t.Fatalf("threshold %d after reordering by 20, want 26", th)
	}
	// The same reordering again: nothing is declared lost by count.
	for seq := uint64(21); seq <= 50; seq++ {
		mustSend(t, s, frame(seq, now))
	}
	now = now.Add(time.Millisecond)
	if err := s.OnAck(now, ack(0, AckRange{35, 50}, AckRange{0, 20}), &res); err != nil {
		t.Fatal(err)
	}
	if !eq(seqs(res.Lost), []uint64{21, 22, 23, 24}) {
		t.Fatalf("lost %v, want only the frames more than 26 behind (21-24)", seqs(res.Lost))
	}
	// 21-24 arrive late too (reordering by 29): the threshold follows.
	now = now.Add(time.Millisecond)
	if err := s.OnAck(now, ack(0, AckRange{35, 50}, AckRange{0, 24}), &res); err != nil {
		t.Fatal(err)
	}
	if res.Spurious != 4 || s.ReorderThreshold() != 37 { // 29 + 29/4 + 1
		t.Fatalf("spurious %d, threshold %d, want 4 and 37", res.Spurious, s.ReorderThreshold())
	}
	// Frames 25-34 are still caught by the time threshold.
	now = now.Add(time.Second)
	s.OnTimeout(now, &res)
	if !eq(seqs(res.Lost), []uint64{25, 26, 27, 28, 29, 30, 31, 32, 33, 34}) {
		t.Fatalf("time threshold lost %v", seqs(res.Lost))
	}
}

// TestAdaptiveTimeThreshold: delay jitter lets a frame be overtaken by one
// sent 3 ms after it on a 20 ms path; the 9/8 time threshold (22.5 ms)
// declares it lost when the later frame is acknowledged. Once the frame is
// acknowledged after all, the threshold covers the time it took, and the
// same jitter no longer declares anything lost; it never passes 2 RTT.
func TestAdaptiveTimeThreshold(t *testing.T) {
	s := NewSender(Config{})
	var res AckResult
	now := t0
	seq := uint64(0)
	// A steady 20 ms RTT.
	for range 10 {
		mustSend(t, s, frame(seq, now))
		now = now.Add(20 * time.Millisecond)
		if err := s.OnAck(now, ack(0, AckRange{0, seq}), &res); err != nil {
			t.Fatal(err)
		}
		seq++
	}
	overtake := func() (lost []uint64) {
		a, b := seq, seq+1
		seq += 2
		sent := now
		mustSend(t, s, frame(a, sent))
		mustSend(t, s, frame(b, sent.Add(3*time.Millisecond)))
		now = sent.Add(23 * time.Millisecond)
		if err := s.OnAck(now, ack(0, AckRange{b, b}, AckRange{0, a - 1}), &res); err != nil {
			t.Fatal(err)
		}
		lost = seqs(res.Lost)
		now = sent.Add(24 * time.Millisecond)
		if err := s.OnAck(now, ack(0, AckRange{0, b}), &res); err != nil {
			t.Fatal(err)
		}
		return lost
	}
	if lost := overtake(); len(lost) != 1 || res.Spurious != 1 {
		t.Fatalf("first overtaking: lost %v, spurious %d; want one frame lost, then spurious", lost, res.Spurious)
	}
	if num, den := s.TimeThreshold(); num*20 < 24*den || num > MaxTimeThresholdNum {
		t.Fatalf("time threshold %d/%d after a 24 ms late frame on a 20 ms RTT", num, den)
	}
	if lost := overtake(); len(lost) != 0 {
		t.Fatalf("the same jitter again declared %v lost", lost)
	}
	// A frame acknowledged 50 ms late raises the threshold to 2 RTT, no more.
	mustSend(t, s, frame(seq, now))
	mustSend(t, s, frame(seq+1, now))
	if err := s.OnAck(now.Add(20*time.Millisecond), ack(0, AckRange{seq + 1, seq + 1}, AckRange{0, seq - 1}), &res); err != nil {
		t.Fatal(err)
	}
	s.OnTimeout(now.Add(30*time.Millisecond), &res)
	if len(res.Lost) != 1 {
		t.Fatalf("loss timer declared %v lost", seqs(res.Lost))
	}
	if err := s.OnAck(now.Add(50*time.Millisecond), ack(0, AckRange{0, seq + 1}), &res); err != nil {
		t.Fatal(err)
	}
	if num, _ := s.TimeThreshold(); num != MaxTimeThresholdNum || res.Spurious != 1 {
		t.Fatalf("time threshold %d/8 (spurious %d), want the cap %d", num, res.Spurious, MaxTimeThresholdNum)
	}
}
