package engine

import (
	"sync/atomic"
	"testing"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/engine/conn"
)

// pumpHandler sends pending frames from Pump, up to 64 per round.
type pumpHandler struct {
	*countHandler
	pending atomic.Int64
	f       *codec.Frame
	to      atomic.Uint32 // peer port
}

func (h *pumpHandler) Pump(s *Shard) bool {
	k := min(h.pending.Load(), 64)
	for i := int64(0); i < k; i++ {
		if err := s.Send(addr(uint16(h.to.Load())), h.f); err != nil {
			panic(err)
		}
	}
	return h.pending.Add(-k) > 0
}

// TestPump checks that Engine.Wake makes a sleeping shard run Pump, round
// after round (no lost wake-up), and that everything queued is sent.
func TestPump(t *testing.T) {
	c := newFakeConn(conn.Caps{GSO: true, MaxSegments: 64})
	bc := newByteCounter(c)
	h := &pumpHandler{countHandler: newCountHandler(), f: mkFrame(codec.TypeData, 3, 0, 500)}
	e := startEngine(t, c, Config{Shards: 1, PoolBuffers: 256}, h)
	size := int64(h.f.EncodedLen())
	rounds := 300
	if raceEnabled {
		rounds = 50
	}
	for r := 0; r < rounds; r++ {
		n := int64(1 + r%100)
		bc.expect(n * size)
		h.pending.Add(n)
		e.Wake(0)
		wait(t, bc.ch)
	}
	if h.pending.Load() != 0 {
		t.Fatalf("%d frames left", h.pending.Load())
	}
}

// TestAllocsPump proves the Pump -> Shard.Send -> flush path allocates
// nothing.
func TestAllocsPump(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	c := newFakeConn(conn.Caps{GSO: true, MaxSegments: 64})
	bc := newByteCounter(c)
	h := &pumpHandler{countHandler: newCountHandler(), f: mkFrame(codec.TypeData, 3, 0, 1100)}
	e := startEngine(t, c, Config{Shards: 1, PoolBuffers: 256}, h)
	size := int64(h.f.EncodedLen())
	run := func() {
		bc.expect(256 * size)
		h.pending.Add(256)
		e.Wake(0)
		<-bc.ch
	}
	run()
	if n := testing.AllocsPerRun(100, run); n != 0 {
		t.Fatalf("Pump send path: %v allocs per 256 frames", n)
	}
}

// BenchmarkPumpSend measures the in-shard send path per frame: Pump calls
// Shard.Send (encode into the output), flushed per iteration, GSO on
// (64 KiB trains of 1200-byte datagrams).
func BenchmarkPumpSend(b *testing.B) {
	c := newFakeConn(conn.Caps{GSO: true, MaxSegments: 64})
	bc := newByteCounter(c)
	f := mkFrame(codec.TypeData, 3, 0, 0)
	f.Payload = make([]byte, 1200-f.EncodedLen()-1)
	h := &pumpHandler{countHandler: newCountHandler(), f: f}
	e := startEngine(b, c, Config{Shards: 1, PoolBuffers: 256}, h)
	size := int64(f.EncodedLen())
	b.ReportAllocs()
	b.SetBytes(512 * size)
	for b.Loop() {
		bc.expect(512 * size)
		h.pending.Add(512)
		e.Wake(0)
		<-bc.ch
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*512), "ns/frame")
}
