package recovery

import (
	"testing"
	"time"
)

// TestProbeLossNotCongestion: lost path MTU probes take no part in
// persistent congestion (their loss is no congestion signal), and a probe
// acknowledged after it was declared lost is not a spurious loss (nothing
// was reduced for it), although its reordering still raises the threshold.
func TestProbeLossNotCongestion(t *testing.T) {
	s := NewSender(Config{})
	var res AckResult
	mustSend(t, s, frame(0, at(0)))
	if err := s.OnAck(at(10*ms), ack(0, AckRange{0, 0}), &res); err != nil {
		t.Fatal(err)
	}
	// As TestSenderPersistentCongestion, but frames 1-10 are probes: the
	// lost non-probe frames 11-20 span 90 ms, under the 165 ms duration.
	for i := uint64(1); i <= 21; i++ {
		f := frame(i, at(10*ms+time.Duration(i)*10*ms))
		f.PMTUProbe = i <= 10
		mustSend(t, s, f)
	}
	if err := s.OnAck(at(230*ms), ack(0, AckRange{21, 21}), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Lost) != 20 || res.PersistentCongestion {
		t.Fatalf("lost %d, persistent %v: lost probes established persistent congestion", len(res.Lost), res.PersistentCongestion)
	}

	s = NewSender(Config{})
	now := t0
	for seq := uint64(0); seq <= 20; seq++ {
		f := frame(seq, now)
		f.PMTUProbe = seq == 0
		mustSend(t, s, f)
	}
	now = now.Add(10 * time.Millisecond)
	if err := s.OnAck(now, ack(0, AckRange{5, 20}), &res); err != nil {
		t.Fatal(err)
	}
	if !eq(seqs(res.Lost), []uint64{0, 1, 2, 3, 4}) {
		t.Fatalf("lost %v", seqs(res.Lost))
	}
	now = now.Add(time.Millisecond)
	if err := s.OnAck(now, ack(0, AckRange{0, 20}), &res); err != nil {
		t.Fatal(err)
	}
	if res.Spurious != 4 {
		t.Fatalf("spurious %d, want 4 (the late probe is not counted)", res.Spurious)
	}
	if th := s.ReorderThreshold(); th != 26 {
		t.Fatalf("threshold %d, want 26", th)
	}
}
