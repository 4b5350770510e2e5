package session

import (
	"testing"
	"time"

	"github.com/sttgo/stt/codec"
)

// TestAllocsSendPath: sealing and queuing an application datagram allocates
// nothing.
func TestAllocsSendPath(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	a, _ := newSides(t, clk, nil)
	p := make([]byte, 1000)
	a.sh.sealSend(a.s, codec.TypeData, 1, p, clk.t) // grow fakeOut once
	a.out.reset()
	allocs := testing.AllocsPerRun(200, func() {
		a.sh.sealSend(a.s, codec.TypeData, 1, p, clk.t)
		a.out.reset()
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
	frames := make([]codec.Frame, n)
	for i := range n {
		if _, err := codec.Decode(a.out.bufs[i], &frames[i]); err != nil {
			t.Fatal(err)
		}
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
	a, _ := newSides(b, clk, nil)
	p := make([]byte, 1000)
	b.ReportAllocs()
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		a.sh.sealSend(a.s, codec.TypeData, 1, p, clk.t)
		a.out.reset()
	}
}

func BenchmarkReceiveData(b *testing.B) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	x, y := newSides(b, clk, nil)
	p := make([]byte, 1000)
	const window = 1024
	frames := make([]codec.Frame, window)
	buf := make([]byte, 2048)
	b.ReportAllocs()
	b.SetBytes(int64(len(p)))
	i := window
	for b.Loop() {
		if i == window {
			b.StopTimer()
			x.out.reset()
			for k := range window {
				x.sh.sealSend(x.s, codec.TypeData, 1, p, clk.t)
				codec.Decode(x.out.bufs[k], &frames[k])
			}
			i = 0
			b.StartTimer()
		}
		y.sh.receive(&frames[i], x.addr, clk.t)
		y.s.q.pop(buf)
		i++
	}
}
