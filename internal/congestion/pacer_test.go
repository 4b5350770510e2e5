package congestion

import (
	"math"
	"strconv"
	"testing"
	"time"
)

func TestRate(t *testing.T) {
	// 120000 bytes over 10 ms * 1.25 = 15 MB/s.
	if got := Rate(120000, 10*ms); got != 15_000_000 {
		t.Fatalf("Rate = %d", got)
	}
	if Rate(1, 0) != Unlimited || Rate(0, ms) != 1 {
		t.Fatal("edge rates")
	}
	// The largest window over 1 ns: saturated where int has 64 bits; on
	// 32-bit platforms the product fits and the quotient is exact.
	want := uint64(Unlimited)
	if strconv.IntSize == 32 {
		want = math.MaxInt32 * 1_250_000_000
	}
	if got := Rate(math.MaxInt, time.Nanosecond); got != want {
		t.Fatalf("Rate(MaxInt, 1ns) = %d, want %d", got, want)
	}
}

// TestPacingSpreadsWindow sends a 100-segment window as fast as the pacer
// allows on a fake clock, at a rate whose segment gap (1.6 ms) is above
// MinPacingDelay: the first BurstPackets go at once, the rest one segment
// per gap, so the window takes (100-10)/100 of srtt/1.25.
func TestPacingSpreadsWindow(t *testing.T) {
	const srtt = 200 * ms
	window := 100 * DefaultMSS
	rate := Rate(window, srtt) // 750 kB/s
	p := NewPacer(DefaultMSS)
	now := t0
	var times []time.Duration
	for sent := 0; sent < window; sent += DefaultMSS {
		if d := p.Delay(now, rate); d > 0 {
			now = now.Add(d)
		}
		if p.Delay(now, rate) != 0 {
			t.Fatal("Delay not 0 after waiting Delay")
		}
		p.OnSent(now, DefaultMSS, rate)
		times = append(times, now.Sub(t0))
	}
	burst := 0
	for _, d := range times {
		if d == 0 {
			burst++
		}
	}
	if burst != BurstPackets {
		t.Fatalf("initial burst %d, want %d", burst, BurstPackets)
	}
	// The remaining 90 segments at 750 kB/s: 90*1200/7.5e5 = 144 ms.
	span := times[len(times)-1]
	if span < 143*ms || span > 145*ms {
		t.Fatalf("window sent over %v, want ~144 ms (srtt/1.25 minus the burst)", span)
	}
	for i := BurstPackets + 1; i < len(times); i++ {
		if gap := times[i] - times[i-1]; gap < 1599*time.Microsecond || gap > 1601*time.Microsecond {
			t.Fatalf("gap %d = %v", i, gap)
		}
	}
}

// TestPacingHighRate: when segments would be microseconds apart, the pacer
// sends bursts covering MinPacingDelay and never asks for a shorter wait
// (each wait is a timer and a wake-up), while the average rate still
// follows the requested one.
func TestPacingHighRate(t *testing.T) {
	const rate = 100_000_000 // 100 MB/s: a segment every 12 us
	p := NewPacer(DefaultMSS)
	now := t0
	waits, sent := 0, 0
	for sent < 50_000_000 {
		if d := p.Delay(now, rate); d > 0 {
			if d < MinPacingDelay {
				t.Fatalf("wait %v below MinPacingDelay", d)
			}
			now = now.Add(d)
			waits++
		}
		p.OnSent(now, DefaultMSS, rate)
		sent += DefaultMSS
	}
	el := now.Sub(t0)
	got := float64(sent) / el.Seconds()
	if got < 0.9*rate || got > 1.25*rate {
		t.Fatalf("average rate %.0f B/s, want about %d", got, rate)
	}
	if perSeg := float64(waits) / float64(sent/DefaultMSS); perSeg > 0.02 {
		t.Fatalf("%d waits for %d segments: bursts are too short", waits, sent/DefaultMSS)
	}
}

func TestPacerBurstRefillsAndCaps(t *testing.T) {
	p := NewPacer(DefaultMSS)
	rate := uint64(1_200_000) // one segment per ms
	for i := 0; i < BurstPackets; i++ {
		p.OnSent(t0, DefaultMSS, rate)
	}
	if d := p.Delay(t0, rate); d != ms {
		t.Fatalf("empty bucket delay %v, want 1ms", d)
	}
	// An idle second refills only up to the burst.
	if b := p.Budget(t0.Add(time.Second), rate); b != BurstPackets*DefaultMSS {
		t.Fatalf("budget after idle %d", b)
	}
	// A probe overdraws the bucket; the deficit delays the next send.
	p.OnSent(t0.Add(time.Second), 12*DefaultMSS, rate)
	if d := p.Delay(t0.Add(time.Second), rate); d != 3*ms {
		t.Fatalf("deficit delay %v, want 3ms", d)
	}
	if p.Delay(t0, Unlimited) != 0 {
		t.Fatal("unlimited rate delayed")
	}
	if NewPacer(0).NextSend(t0, rate) != t0 {
		t.Fatal("fresh pacer not ready")
	}
}
