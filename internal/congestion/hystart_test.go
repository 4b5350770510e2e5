package congestion

import (
	"testing"
	"time"

	"github.com/sttgo/stt/internal/recovery"
)

// TestSimHyStartExitsBeforeLoss: on a 100 Mbit/s, 10 ms path with a deep
// (4-BDP) buffer, slow start without HyStart overshoots into tail drops,
// while HyStart sees the queueing delay grow (> 4 ms above the base RTT)
// and leaves slow start before the first loss.
func TestSimHyStartExitsBeforeLoss(t *testing.T) {
	run := func(cfg Config) (exitReductions int, exitAt time.Duration, drops int) {
		s := newSim(t, 12_500_000, 10*ms, 4, 0, 9)
		f := s.addFlow(t0, func(r *recovery.RTTStats) Controller { return NewCubic(r, cfg) })
		exitReductions = -1
		for s.now.Before(t0.Add(2 * time.Second)) {
			s.run(s.now.Add(ms))
			if exitReductions < 0 && !f.cc.InSlowStart() {
				exitReductions = reductions(f.cc)
				exitAt = s.now.Sub(t0)
				drops = s.path.drops
			}
		}
		return exitReductions, exitAt, drops
	}
	red, at, drops := run(Config{})
	t.Logf("HyStart: left slow start at %v after %d reductions, %d drops", at, red, drops)
	if red != 0 || drops != 0 {
		t.Fatalf("HyStart left slow start after %d reductions / %d drops, want 0", red, drops)
	}
	red, at, drops = run(Config{NoHyStart: true})
	t.Logf("plain slow start: left at %v after %d reductions, %d drops", at, red, drops)
	if red == 0 {
		t.Fatal("plain slow start left without a loss: the path does not exercise HyStart")
	}
}

// TestSimHyStartShallowBuffer: on a 1 Gbit/s, 20 ms path buffering one BDP
// (the emulated path of issue 12), slow start doubles the window faster
// than a delay signal a round old can stop it, so some tail drops remain;
// HyStart must still see the queue within the round it builds (not a round
// later, as a per-round minimum does) and leave slow start at most one
// reduction and well under half the drops of plain slow start.
func TestSimHyStartShallowBuffer(t *testing.T) {
	run := func(cfg Config) (red, drops int) {
		s := newSim(t, 125_000_000, 20*ms, 1, 0, 3)
		f := s.addFlow(t0, func(r *recovery.RTTStats) Controller { return NewCubic(r, cfg) })
		s.run(t0.Add(400 * ms))
		return reductions(f.cc), s.path.drops
	}
	red, drops := run(Config{})
	plainRed, plainDrops := run(Config{NoHyStart: true})
	t.Logf("HyStart: %d reductions, %d drops; plain slow start: %d reductions, %d drops", red, drops, plainRed, plainDrops)
	if red > 1 || 2*drops > plainDrops {
		t.Fatalf("HyStart: %d reductions and %d drops (plain: %d, %d), want <= 1 and under half", red, drops, plainRed, plainDrops)
	}
}
