package engine

import (
	"sync/atomic"
	"testing"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/engine/conn"
)

// rxBatch prepares n one-frame datagrams of distinct sessions.
func rxBatch(t testing.TB, n, payload int) []fakeDgram {
	dgs := make([]fakeDgram, n)
	for i := range dgs {
		dgs[i] = fakeDgram{data: frame(t, codec.TypeData, uint64(i)*7919, uint64(i), string(make([]byte, payload))), from: addr(uint16(1000 + i))}
	}
	return dgs
}

// byteCounter is a WriteBatch hook that signals ch once target bytes were
// written.
type byteCounter struct {
	n, target atomic.Int64
	ch        chan struct{}
}

func newByteCounter(c *fakeConn) *byteCounter {
	bc := &byteCounter{ch: make(chan struct{}, 1)}
	c.onWrite = func(msgs []conn.Message) {
		s := int64(0)
		for i := range msgs {
			s += int64(msgs[i].N)
		}
		n := bc.n.Add(s)
		if t := bc.target.Load(); t > 0 && n >= t && bc.target.CompareAndSwap(t, 0) {
			bc.ch <- struct{}{}
		}
	}
	return bc
}

func (bc *byteCounter) expect(n int64) { bc.target.Store(bc.n.Load() + n) }

// TestAllocsReceive proves the receive -> route -> shard -> handler path
// allocates nothing per datagram and per batch (all goroutines counted).
func TestAllocsReceive(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	c := newFakeConn(conn.Caps{})
	h := newCountHandler()
	startEngine(t, c, Config{Shards: 2}, h)
	batch := rxBatch(t, 64, 100)
	one := batch[:1]
	run := func(dgs []fakeDgram) {
		h.expect(int64(len(dgs)))
		c.feed <- dgs
		<-h.ch
	}
	run(batch) // warm up
	if n := testing.AllocsPerRun(200, func() { run(one) }); n != 0 {
		t.Errorf("receive path: %v allocs per datagram", n)
	}
	if n := testing.AllocsPerRun(100, func() { run(batch) }); n != 0 {
		t.Errorf("receive path: %v allocs per batch of 64", n)
	}
}

// TestAllocsSend proves Engine.Send plus the shard's coalescing flush, and
// Shard.Send from a handler, allocate nothing.
func TestAllocsSend(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	for _, caps := range []conn.Caps{{}, {GSO: true, MaxSegments: 64}} {
		c := newFakeConn(caps)
		bc := newByteCounter(c)
		h := newCountHandler()
		h.reply = func(s *Shard, in *Inbound) {
			if err := s.Send(in.From, &in.Frame); err != nil {
				panic(err)
			}
		}
		e := startEngine(t, c, Config{Shards: 2, PoolBuffers: 512}, h)
		frames := make([]*codec.Frame, 64)
		total := int64(0)
		for i := range frames {
			frames[i] = mkFrame(codec.TypeData, uint64(i%4), uint64(i), 300)
			total += int64(frames[i].EncodedLen())
		}
		send := func() {
			bc.expect(total)
			for i, f := range frames {
				if err := e.Send(addr(uint16(i%3)), f); err != nil {
					panic(err)
				}
			}
			<-bc.ch
		}
		send()
		if n := testing.AllocsPerRun(100, send); n != 0 {
			t.Errorf("caps %+v: Engine.Send path: %v allocs per 64 frames", caps, n)
		}
		batch := rxBatch(t, 64, 100)
		var rxBytes int64
		for _, d := range batch {
			rxBytes += int64(len(d.data))
		}
		echo := func() {
			bc.expect(rxBytes)
			c.feed <- batch
			<-bc.ch
		}
		echo()
		if n := testing.AllocsPerRun(100, echo); n != 0 {
			t.Errorf("caps %+v: receive + Shard.Send echo: %v allocs per batch", caps, n)
		}
	}
}
