package session

import (
	"testing"
	"time"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/engine/conn/conntest"
)

// TestAllocsSendPath: sealing and queuing an application datagram allocates
// nothing.
func TestAllocsSendPath(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	a, b := newSides(t, clk, nil)
	p := make([]byte, 1000)
	for range conntest.DefaultQueueLen + 1 { // the in-memory network's queue slots get their buffers
		a.sh.sealSend(a.s, codec.TypeData, 1, p, clk.t)
		discard(a, b)
	}
	allocs := testing.AllocsPerRun(200, func() {
		a.sh.sealSend(a.s, codec.TypeData, 1, p, clk.t)
		discard(a, b)
	})
	if allocs != 0 {
		t.Fatalf("send path: %v allocs per frame", allocs)
	}
}

// TestAllocsReceivePath: Open and dispatch of a DATA frame into the receive
// queue allocate nothing (after the queue slots were first used).
func TestAllocsReceivePath(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	a, b := newSides(t, clk, func(c *Config) { c.RecvQueue = 16 })
	const n = 300
	p := make([]byte, 1000)
	for range n {
		a.sh.sealSend(a.s, codec.TypeData, 1, p, clk.t)
	}
	take(a, b)
	frames := make([]codec.Frame, 0, n)
	b.frames(t, func(f *codec.Frame) { frames = append(frames, *f) })
	if len(frames) != n {
		t.Fatalf("%d frames arrived, want %d", len(frames), n)
	}
	buf := make([]byte, 2048)
	i := 0
	step := func() {
		b.sh.receive(&frames[i], a.addr, clk.t)
		b.s.q.pop(buf)
		i++
	}
	for range 20 { // first use of the queue slots allocates them
		step()
	}
	allocs := testing.AllocsPerRun(200, step)
	if allocs != 0 {
		t.Fatalf("receive path: %v allocs per frame", allocs)
	}
	if b.s.stats.DatagramsIn.Load() != uint64(i) {
		t.Fatalf("delivered %d of %d", b.s.stats.DatagramsIn.Load(), i)
	}
}

func BenchmarkSealSend(b *testing.B) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	x, y := newSides(b, clk, nil)
	p := make([]byte, 1000)
	b.ReportAllocs()
	b.SetBytes(int64(len(p)))
	k := 0
	for b.Loop() {
		x.sh.sealSend(x.s, codec.TypeData, 1, p, clk.t)
		if k++; k == 32 { // well within the output's capacity: no flush inside sealSend
			b.StopTimer()
			discard(x, y)
			k = 0
			b.StartTimer()
		}
	}
}

func BenchmarkReceiveData(b *testing.B) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	x, y := newSides(b, clk, nil)
	p := make([]byte, 1000)
	const window = 1024
	frames := make([]codec.Frame, 0, window)
	buf := make([]byte, 2048)
	b.ReportAllocs()
	b.SetBytes(int64(len(p)))
	i := window
	for b.Loop() {
		if i == window {
			b.StopTimer()
			y.clearInbox()
			for range window {
				x.sh.sealSend(x.s, codec.TypeData, 1, p, clk.t)
			}
			take(x, y)
			frames = frames[:0]
			y.frames(b, func(f *codec.Frame) { frames = append(frames, *f) })
			i = 0
			b.StartTimer()
		}
		y.sh.receive(&frames[i], x.addr, clk.t)
		y.s.q.pop(buf)
		i++
	}
}
