package congestion

import (
	"math"
	"testing"
	"time"

	"github.com/sttgo/stt/internal/recovery"
)

// TestSimRandomLoss runs one flow over a 10 Mbit/s (1.25 MB/s), 20 ms
// path with a 1-BDP buffer and 1%, 5% and 10% random loss.
//
// The bound: a Reno-like AIMD flow under random loss p averages
// B = MSS/RTT * sqrt(3/2)/sqrt(p) (Mathis et al. 1997), and of course at
// most R*(1-p). With MSS 1200 and RTT 20 ms: B = 735 KB/s at 1%, 329 KB/s
// at 5%, 232 KB/s at 10%. Mathis ignores timeouts; at 5-10% loss and
// windows of a few segments some losses are only repaired by the probe
// timeout, which Padhye et al.'s model says can cost up to about half of
// B at p = 10%. We therefore assert goodput >= 0.5 * min(B, R(1-p)) at
// 1% and 5%, and >= 0.35 * min(B, R(1-p)) at 10%: conservative floors
// that still catch a collapse (a controller that stalls on repeated
// timeouts, or fails to recover from minimum windows, falls far below).
func TestSimRandomLoss(t *testing.T) {
	const rate = 1_250_000
	const rtt = 20 * ms
	cases := []struct {
		loss  float64
		floor float64
	}{
		{0.01, 0.5},
		{0.05, 0.5},
		{0.10, 0.35},
	}
	for _, algo := range []struct {
		name string
		mk   func(*recovery.RTTStats) Controller
	}{{"cubic", cubicMaker}, {"newreno", renoMaker}, {"bbr", bbrMaker}} {
		for _, c := range cases {
			name := algo.name + "-" + pct(c.loss)
			t.Run(name, func(t *testing.T) {
				dur := simSeconds(30*time.Second, 6*time.Second)
				s := newSim(t, rate, rtt, 1, c.loss, 7)
				f := s.addFlow(t0, algo.mk)
				f.measureFrom = t0.Add(2 * time.Second)
				s.run(t0.Add(dur))
				got := float64(f.goodput) / (dur - 2*time.Second).Seconds()
				bound := math.Min(mathis(rtt, c.loss), rate*(1-c.loss))
				t.Logf("goodput %.0f B/s = %.2f of R, %.2f of Mathis %.0f; sent %d lost %d (%.1f%%), reductions %d, probes %d, min window %d",
					got, got/rate, got/mathis(rtt, c.loss), mathis(rtt, c.loss), f.sent, f.lost,
					100*float64(f.lost)/float64(f.sent), len(f.reductions), f.probes, f.minWindow)
				if got < c.floor*bound {
					t.Fatalf("goodput %.0f B/s below %.2f * %.0f", got, c.floor, bound)
				}
				checkReductionSpacing(t, f, rtt)
			})
		}
	}
}

func pct(p float64) string {
	return string(rune('0'+int(p*100)/10)) + string(rune('0'+int(p*100)%10)) + "pct"
}

// jain returns Jain's fairness index of xs: (sum x)^2 / (n * sum x^2).
func jain(xs ...float64) float64 {
	var s, s2 float64
	for _, x := range xs {
		s += x
		s2 += x * x
	}
	return s * s / (float64(len(xs)) * s2)
}

// TestSimFairness starts a second flow 2 s after the first on a shared
// 20 Mbit/s, 20 ms bottleneck with a 1-BDP buffer, and measures both over
// the last 20 s (1000 RTTs after a 500-RTT convergence period). Jain's
// index must be >= 0.8 and the link must stay >= 90% used.
func TestSimFairness(t *testing.T) {
	const rate = 2_500_000
	const rtt = 20 * ms
	for _, algo := range []struct {
		name string
		mk   func(*recovery.RTTStats) Controller
	}{{"cubic", cubicMaker}, {"newreno", renoMaker}, {"bbr", bbrMaker}} {
		t.Run(algo.name, func(t *testing.T) {
			total := simSeconds(32*time.Second, 12*time.Second)
			measure := simSeconds(20*time.Second, 4*time.Second)
			s := newSim(t, rate, rtt, 1, 0, 3)
			a := s.addFlow(t0, algo.mk)
			b := s.addFlow(t0.Add(2*time.Second), algo.mk)
			a.measureFrom = t0.Add(total - measure)
			b.measureFrom = a.measureFrom
			s.run(t0.Add(total))
			ga := float64(a.goodput) / measure.Seconds()
			gb := float64(b.goodput) / measure.Seconds()
			j := jain(ga, gb)
			t.Logf("flow A %.0f B/s, flow B %.0f B/s, Jain %.3f, utilisation %.3f", ga, gb, j, (ga+gb)/rate)
			if j < 0.8 {
				t.Fatalf("Jain's index %.3f < 0.8", j)
			}
			if (ga+gb)/rate < 0.9 {
				t.Fatalf("utilisation %.3f < 0.9", (ga+gb)/rate)
			}
			checkReductionSpacing(t, a, rtt)
			checkReductionSpacing(t, b, rtt)
		})
	}
}

// TestSimPersistentCongestion blacks out the path for 2 s mid-transfer:
// every frame in flight and every PTO probe is lost across more than 3
// PTOs, so the first ACK after the outage (for a probe) makes recovery
// report persistent congestion; the sim's accounting asserts that the
// window then collapsed to the minimum. Afterwards the flow must fill the
// link again.
func TestSimPersistentCongestion(t *testing.T) {
	const rate = 1_250_000
	const rtt = 20 * ms
	s := newSim(t, rate, rtt, 1, 0, 5)
	f := s.addFlow(t0, cubicMaker)
	s.run(t0.Add(3 * time.Second))
	before := f.cc.Window()
	s.path.loss = 1
	s.run(t0.Add(5 * time.Second))
	s.path.loss = 0
	s.run(t0.Add(8 * time.Second))
	if f.pcEvents != 1 {
		t.Fatalf("%d persistent congestion events, want 1", f.pcEvents)
	}
	if f.probes == 0 {
		t.Fatal("no PTO probes during the outage")
	}
	f.measureFrom = t0.Add(8 * time.Second)
	f.goodput = 0
	s.run(t0.Add(12 * time.Second))
	got := float64(f.goodput) / 4
	t.Logf("window before outage %d, probes %d, goodput after recovery %.0f B/s", before, f.probes, got)
	if got < 0.9*rate {
		t.Fatalf("goodput after recovery %.0f B/s < 0.9 R", got)
	}
}
