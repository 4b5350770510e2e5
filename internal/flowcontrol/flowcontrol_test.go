package flowcontrol

import (
	"testing"
	"time"
)

func TestSendCredit(t *testing.T) {
	var c SendCredit
	c.Init(100)
	if err := c.Consume(60); err != nil || c.Available() != 40 {
		t.Fatal(err)
	}
	if err := c.Consume(41); err != ErrCreditExceeded || c.Used() != 60 {
		t.Fatalf("over-consume: %v, used %d", err, c.Used())
	}
	if err := c.Consume(40); err != nil || !c.Blocked() {
		t.Fatal("not blocked at the limit")
	}
	if c.Raise(90) || c.Raise(100) || c.Limit() != 100 {
		t.Fatal("limit went down or stayed equal and reported growth")
	}
	if !c.Raise(150) || c.Blocked() || c.Available() != 50 {
		t.Fatal("raise failed")
	}
	var s SendCredit
	s.Init(120) // session: 120 total, 30 already used by other streams
	s.Consume(30)
	if got := StreamSendLimit(&c, &s); got != 150 {
		t.Fatalf("StreamSendLimit = %d, want 150 (stream-bound)", got)
	}
	s.Consume(70) // session has 20 left
	if got := StreamSendLimit(&c, &s); got != 120 {
		t.Fatalf("StreamSendLimit = %d, want 120 (session-bound)", got)
	}
}

func TestRecvWindowLimit(t *testing.T) {
	var w RecvWindow
	w.Init(1000, 4000, 0)
	if err := w.OnReceived(1001); err != ErrFlowControl || w.Highest() != 0 {
		t.Fatalf("over the limit: %v", err)
	}
	if err := w.OnReceived(1000); err != nil {
		t.Fatal(err)
	}
	if err := w.OnReceived(1); err != ErrFlowControl {
		t.Fatal("one byte past the limit accepted")
	}
	if _, ok := w.Update(0, 0); ok {
		t.Fatal("update before anything consumed")
	}
	w.OnConsumed(499)
	if w.UpdateDue() {
		t.Fatal("update due with 501 of 1000 left")
	}
	w.OnConsumed(1)
	lim, ok := w.Update(time.Second, 0) // rtt unknown: no growth
	if !ok || lim != 1500 || w.Window() != 1000 {
		t.Fatalf("update = %d %v, window %d", lim, ok, w.Window())
	}
	w.OnConsumed(10000)
	if w.Consumed() != 1000 {
		t.Fatalf("consumed %d beyond highest", w.Consumed())
	}
}

// TestRecvWindowAutoTune reads fast (half a window per RTT/4) and checks
// that the window doubles up to the maximum, then reads slowly and checks
// that a fresh window does not grow.
func TestRecvWindowAutoTune(t *testing.T) {
	const rtt = 10 * time.Millisecond
	var w RecvWindow
	w.Init(16<<10, 256<<10, 0)
	now := time.Duration(0)
	var windows []uint64
	for range 20 {
		n := w.Limit() - w.Highest()
		if err := w.OnReceived(n); err != nil {
			t.Fatal(err)
		}
		w.OnConsumed(n)
		now += rtt / 4
		if _, ok := w.Update(now, rtt); !ok {
			t.Fatal("no update after consuming everything")
		}
		windows = append(windows, w.Window())
	}
	if w.Window() != 256<<10 {
		t.Fatalf("window %d after fast reads, want the max; history %v", w.Window(), windows)
	}
	for i := 1; i < len(windows); i++ {
		if windows[i] < windows[i-1] || windows[i] > 2*windows[i-1] {
			t.Fatalf("window jumped %d -> %d", windows[i-1], windows[i])
		}
	}
	w.Init(16<<10, 256<<10, 0)
	now = 0
	for range 20 {
		w.OnReceived(8 << 10)
		w.OnConsumed(8 << 10)
		now += 3 * rtt
		w.Update(now, rtt)
	}
	if w.Window() != 16<<10 {
		t.Fatalf("slow reader grew the window to %d", w.Window())
	}
	if !w.EnsureWindow(100<<10) || w.Window() != 100<<10 || w.EnsureWindow(50<<10) {
		t.Fatal("EnsureWindow")
	}
	if w.EnsureWindow(1 << 30); w.Window() != w.MaxWindow() {
		t.Fatal("EnsureWindow passed the max")
	}
}

func TestFlowControlAllocs(t *testing.T) {
	var c, s SendCredit
	c.Init(1 << 40)
	s.Init(1 << 40)
	var w RecvWindow
	w.Init(1<<20, 1<<24, 0)
	now := time.Duration(0)
	if n := testing.AllocsPerRun(1000, func() {
		lim := StreamSendLimit(&c, &s)
		_ = c.Consume(min(1200, lim-c.Used()))
		_ = s.Consume(1200)
		c.Raise(c.Limit() + 1200)
		_ = w.OnReceived(1200)
		w.OnConsumed(1200)
		now += time.Millisecond
		w.Update(now, 20*time.Millisecond)
	}); n != 0 {
		t.Fatalf("%v allocs per run", n)
	}
}

func BenchmarkRecvWindow(b *testing.B) {
	var w RecvWindow
	w.Init(1<<20, 1<<24, 0)
	now := time.Duration(0)
	b.SetBytes(1200)
	b.ReportAllocs()
	for b.Loop() {
		if err := w.OnReceived(1200); err != nil {
			b.Fatal(err)
		}
		w.OnConsumed(1200)
		now += time.Microsecond
		w.Update(now, time.Millisecond)
	}
}

// TestUpdateWithinCaps checks that a ceiling holds the advertised limit
// back, never lowers it, and leaves the update due until it can grow.
func TestUpdateWithinCaps(t *testing.T) {
	var w RecvWindow
	w.Init(1000, 1000, 0)
	w.OnReceived(1000)
	w.OnConsumed(800)
	if l, ok, capped := w.UpdateWithin(0, 0, 1300); !ok || !capped || l != 1300 {
		t.Fatalf("capped update: %d %v %v, want 1300 true true", l, ok, capped)
	}
	if l, ok, capped := w.UpdateWithin(0, 0, 900); ok || !capped || l != 1300 || !w.UpdateDue() {
		t.Fatalf("a ceiling below the limit: %d %v %v (due %v), want 1300 false true, still due", l, ok, capped, w.UpdateDue())
	}
	if l, ok, capped := w.UpdateWithin(0, 0, 1<<62); !ok || capped || l != 1800 {
		t.Fatalf("uncapped: %d %v %v, want 1800 true false", l, ok, capped)
	}
}
