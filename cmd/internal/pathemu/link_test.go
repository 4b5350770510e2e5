package pathemu

import (
	"math"
	"testing"
	"time"
)

var t0 = time.Unix(1_000_000, 0)

// TestLinkBernoulliLoss: the loss rate matches the configuration.
func TestLinkBernoulliLoss(t *testing.T) {
	l, err := NewLink(LinkConfig{Loss: 0.02, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	const n = 200000
	lost := 0
	for i := range n {
		if _, v := l.Admit(t0.Add(time.Duration(i)*time.Microsecond), 1000, true); v == DropLoss {
			lost++
		}
	}
	if got := float64(lost) / n; math.Abs(got-0.02) > 0.002 {
		t.Fatalf("loss rate %.4f, want 0.02", got)
	}
	// Frames exempt from random loss (ARP) always pass.
	for range 1000 {
		if _, v := l.Admit(t0, 60, false); v != Deliver {
			t.Fatal("a frame exempt from random loss was dropped")
		}
	}
}

// TestLinkCorrelatedLoss: the Gilbert chain keeps the mean loss rate and
// makes a loss after a loss as likely as configured (Bernoulli would give
// the mean).
func TestLinkCorrelatedLoss(t *testing.T) {
	l, err := NewLink(LinkConfig{Loss: 0.02, LossCorrelation: 0.25, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	const n = 1000000
	lost, pairs, prev := 0, 0, false
	for range n {
		_, v := l.Admit(t0, 1000, true)
		cur := v == DropLoss
		if cur {
			lost++
			if prev {
				pairs++
			}
		}
		prev = cur
	}
	mean := float64(lost) / n
	cond := float64(pairs) / float64(lost)
	want := 0.02 + 0.25*0.98
	t.Logf("mean loss %.4f, P(loss | loss) %.3f (want %.3f)", mean, cond, want)
	if math.Abs(mean-0.02) > 0.002 || math.Abs(cond-want) > 0.03 {
		t.Fatalf("mean %.4f (want 0.02), P(loss|loss) %.3f (want %.3f)", mean, cond, want)
	}
}

// TestLinkRateAndQueue: back-to-back frames leave spaced by their
// serialisation time, after the propagation delay; the queue drops what
// exceeds its BDP-sized capacity, and drains at the rate.
func TestLinkRateAndQueue(t *testing.T) {
	cfg := LinkConfig{RateBps: 100_000_000, Delay: 10 * time.Millisecond, QueueBDP: 1}
	l, err := NewLink(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if want := BDPBytes(cfg.RateBps, 20*time.Millisecond); l.QueueCap() != want {
		t.Fatalf("queue %d bytes, want one BDP = %d", l.QueueCap(), want)
	}
	const size = 1500
	ser := time.Duration(size * 8 * int64(time.Second) / int64(cfg.RateBps)) // 120 µs
	var last time.Time
	delivered, dropped := 0, 0
	for i := range 400 { // 600 kB at once: the queue holds 250 kB
		at, v := l.Admit(t0, size, true)
		switch v {
		case Deliver:
			if i > 0 && at.Sub(last) != ser {
				t.Fatalf("frame %d leaves %v after the previous, want %v", i, at.Sub(last), ser)
			}
			last = at
			delivered++
		case DropQueue:
			dropped++
		default:
			t.Fatalf("verdict %d", v)
		}
	}
	if want := l.QueueCap() / size; delivered != want || dropped != 400-want {
		t.Fatalf("delivered %d dropped %d, want %d / %d", delivered, dropped, want, 400-want)
	}
	if first := t0.Add(ser + cfg.Delay); last.Sub(first) != time.Duration(delivered-1)*ser {
		t.Fatalf("last frame at %v", last.Sub(t0))
	}
	// Once the queue drained, a frame passes again.
	if _, v := l.Admit(last, size, true); v != Deliver {
		t.Fatal("frame dropped after the queue drained")
	}
}

// TestLinkJitterReorder: delivery times stay within delay ± jitter, and
// the reorder fraction holds frames back.
func TestLinkJitterReorder(t *testing.T) {
	cfg := LinkConfig{Delay: 10 * time.Millisecond, Jitter: time.Millisecond, Reorder: 0.1, ReorderDelay: 3 * time.Millisecond, Seed: 9}
	l, err := NewLink(cfg)
	if err != nil {
		t.Fatal(err)
	}
	held := 0
	for i := range 10000 {
		now := t0.Add(time.Duration(i) * 10 * time.Microsecond)
		at, v := l.Admit(now, 100, true)
		if v != Deliver {
			t.Fatal("dropped")
		}
		d := at.Sub(now)
		if d > cfg.Delay+cfg.Jitter {
			held++
			d -= cfg.ReorderDelay
		}
		if d < cfg.Delay-cfg.Jitter || d > cfg.Delay+cfg.Jitter {
			t.Fatalf("delay %v outside 10 ms ± 1 ms", d)
		}
	}
	if held < 800 || held > 1200 || l.Stats().Reordered != uint64(held) {
		t.Fatalf("%d held back (stats %d), want about 1000", held, l.Stats().Reordered)
	}
}

func TestLinkConfigValidate(t *testing.T) {
	for _, c := range []LinkConfig{{Loss: -0.1}, {Loss: 1.1}, {LossCorrelation: 2}, {Reorder: math.NaN()}, {Delay: -1}, {QueueBDP: -1}} {
		if _, err := NewLink(c); err == nil {
			t.Fatalf("%+v accepted", c)
		}
	}
}

func TestDeliveryHeapOrder(t *testing.T) {
	var h deliveryHeap
	ps := make([]packet, 200)
	for i := range ps {
		ps[i] = packet{at: t0.Add(time.Duration((i*7919)%50) * time.Millisecond), seq: uint64(i)}
		h.push(&ps[i])
	}
	var prev *packet
	for len(h) > 0 {
		p := h.pop()
		if prev != nil && (p.at.Before(prev.at) || p.at.Equal(prev.at) && p.seq < prev.seq) {
			t.Fatalf("out of order: %v/%d after %v/%d", p.at, p.seq, prev.at, prev.seq)
		}
		prev = p
	}
}
