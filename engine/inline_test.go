package engine

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/engine/conn"
)

// exclusiveHandler checks that calls for one shard never overlap, records
// each session's sequence numbers, echoes every frame with s.Send, and
// from Pump sends the frames queued in pending.
type exclusiveHandler struct {
	inCall  [4]atomic.Bool
	overlap atomic.Bool
	mu      sync.Mutex
	seqs    map[uint64][]uint64
	frames  atomic.Int64
	pending [4]atomic.Int64 // per shard
	pf      *codec.Frame
}

func (h *exclusiveHandler) enter(s *Shard) {
	if !h.inCall[s.ID()].CompareAndSwap(false, true) {
		h.overlap.Store(true)
	}
}

func (h *exclusiveHandler) leave(s *Shard) { h.inCall[s.ID()].Store(false) }

func (h *exclusiveHandler) HandleBatch(s *Shard, batch []Inbound) {
	h.enter(s)
	defer h.leave(s)
	h.mu.Lock()
	for i := range batch {
		f := &batch[i].Frame
		sid := f.SessionID.Uint64()
		h.seqs[sid] = append(h.seqs[sid], f.Sequence)
		if err := s.Send(batch[i].From, f); err != nil {
			panic(err)
		}
	}
	h.mu.Unlock()
	h.frames.Add(int64(len(batch)))
}

func (h *exclusiveHandler) Pump(s *Shard) bool {
	h.enter(s)
	defer h.leave(s)
	p := &h.pending[s.ID()]
	k := min(p.Load(), 16)
	sent := int64(0)
	for ; sent < k; sent++ {
		if err := s.Send(addr(77), h.pf); err == ErrBackpressure {
			break // the pool is busy with received data: retry next step
		} else if err != nil {
			panic(err)
		}
	}
	return p.Add(-sent) > 0 || sent < k
}

// TestInlineDelivery runs traffic through an engine with InlineDelivery
// while another goroutine keeps waking the shards' Pumpers, and checks
// that the receive loop did run shard steps itself, that calls for one
// shard never overlapped, that every session's frames arrived in order,
// and that every echo and every pumped frame was sent.
func TestInlineDelivery(t *testing.T) {
	for _, shards := range []int{1, 2} {
		c := newFakeConn(conn.Caps{GSO: true, MaxSegments: 64})
		bc := newByteCounter(c)
		h := &exclusiveHandler{seqs: map[uint64][]uint64{}, pf: mkFrame(codec.TypeData, 5, 0, 50)}
		e := startEngine(t, c, Config{Shards: shards, BatchSize: 16, PoolBuffers: 256, InlineDelivery: true}, h)
		rounds := 300
		if raceEnabled {
			rounds = 60
		}
		var wg sync.WaitGroup
		pumped := int64(0)
		wg.Go(func() {
			for i := 0; i < rounds; i++ {
				h.pending[i%shards].Add(3)
				e.Wake(i % shards)
			}
		})
		pumped = int64(3 * rounds * h.pf.EncodedLen())
		var want int64
		var sent int64
		for r := 0; r < rounds; r++ {
			// Mostly one session per batch (the inline case), sometimes
			// two sessions (usually two shards: no inlining).
			var batch []fakeDgram
			for i := 0; i < 1+r%5; i++ {
				sid := uint64(r%3) * 7919
				if r%4 == 3 && i%2 == 1 {
					sid = 104729
				}
				d := frame(t, codec.TypeData, sid, uint64(r*8+i), "payload")
				sent += int64(len(d))
				batch = append(batch, fakeDgram{data: d, from: addr(uint16(1 + r%3))})
			}
			want += int64(len(batch))
			c.feed <- batch
			// Wait for delivery, so that the ring never fills (a full ring
			// drops) and the pool stays available for the echoes.
			for h.frames.Load() < want {
				runtimeYield()
			}
		}
		wg.Wait()
		for h.frames.Load() < want || h.pending[0].Load() > 0 || h.pending[1].Load() > 0 {
			e.Wake(0)
			if shards > 1 {
				e.Wake(1)
			}
			runtimeYield()
		}
		total := sent + pumped
		for bc.n.Load() < total {
			runtimeYield()
		}
		// With traffic quiet, single-session batches find their shard
		// idle: the receive loop runs the step itself. (A shard goroutine
		// still in an idle step makes an attempt fall back to a wake-up,
		// hence the bounded retries.)
		for i := 0; i < 10000 && e.Stats().RxInline == 0; i++ {
			d := frame(t, codec.TypeData, 7919, uint64(1<<20+i), "payload")
			want++
			total += int64(len(d))
			c.feed <- []fakeDgram{{data: d, from: addr(1)}}
			for h.frames.Load() < want || bc.n.Load() < total {
				runtimeYield()
			}
		}
		e.Close()
		if h.overlap.Load() {
			t.Fatalf("%d shards: calls for one shard overlapped", shards)
		}
		if st := e.Stats(); st.RxInline == 0 {
			t.Errorf("%d shards: the receive loop never ran a step inline: %+v", shards, st)
		}
		for sid, seqs := range h.seqs {
			for i := 1; i < len(seqs); i++ {
				if seqs[i] <= seqs[i-1] {
					t.Fatalf("%d shards: session %x out of order: %v", shards, sid, seqs)
				}
			}
		}
		if bc.n.Load() != total {
			t.Fatalf("%d shards: %d bytes sent, want %d (echoes and pumped frames)", shards, bc.n.Load(), total)
		}
	}
}

// TestAllocsInline proves that the inline receive -> handler -> echo path
// allocates nothing per batch.
func TestAllocsInline(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	c := newFakeConn(conn.Caps{GSO: true, MaxSegments: 64})
	bc := newByteCounter(c)
	h := newCountHandler()
	h.reply = func(s *Shard, in *Inbound) {
		if err := s.Send(in.From, &in.Frame); err != nil {
			panic(err)
		}
	}
	e := startEngine(t, c, Config{Shards: 2, PoolBuffers: 512, InlineDelivery: true}, h)
	var batch []fakeDgram
	var size int64
	for i := 0; i < 64; i++ {
		d := frame(t, codec.TypeData, 42, uint64(i), "0123456789")
		size += int64(len(d))
		batch = append(batch, fakeDgram{data: d, from: addr(3)})
	}
	echo := func() {
		bc.expect(size)
		c.feed <- batch
		<-bc.ch
	}
	echo()
	if n := testing.AllocsPerRun(100, echo); n != 0 {
		t.Errorf("inline receive + echo: %v allocs per batch of 64", n)
	}
	for i := 0; i < 10000 && e.Stats().RxInline == 0; i++ {
		echo() // a shard goroutine in an idle step makes an attempt fall back
	}
	if e.Stats().RxInline == 0 {
		t.Error("no step ran inline")
	}
}

func runtimeYield() { runtime.Gosched() }
