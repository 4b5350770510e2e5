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
