package engine

import (
	"math/rand/v2"
	"testing"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/engine/conn"
)

// shardCheckHandler counts frames and records any frame delivered on a
// shard other than its owner.
type shardCheckHandler struct {
	e      *Engine
	frames int
	bad    string
}

func (h *shardCheckHandler) HandleBatch(s *Shard, batch []Inbound) {
	h.frames += len(batch)
	for i := range batch {
		in := &batch[i]
		want := h.e.ShardOfSession(in.Frame.SessionID)
		if in.Frame.Type == codec.TypeHandshake {
			want = h.e.ShardOfAddr(in.From)
		}
		if s.ID() != want {
			h.bad = "frame delivered on a shard that does not own it"
		}
	}
}

// TestGRORouteModel routes seeded random GRO super-datagrams made of
// equal-size segments (the shape the receive loop's per-segment fast path
// recognizes) with random sessions, handshake frames and corrupted prefix
// bytes, and checks the delivered frames and the drop counters against
// the reference model, and that every frame reaches its owning shard.
func TestGRORouteModel(t *testing.T) {
	h := &shardCheckHandler{}
	e, err := New(newFakeConn(conn.Caps{GRO: true}), Config{Shards: 3, BatchSize: 8, PoolBuffers: 64, MaxFrameBody: 1000, Logger: quiet}, h)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	h.e = e
	rng := rand.New(rand.NewPCG(1, 2))
	iters := 3000
	if raceEnabled {
		iters = 300
	}
	for it := 0; it < iters; it++ {
		// Payload sizes on both sides of the 1- and 2-byte length varint.
		payload := []int{5, 80, 100, 900, 990}[rng.IntN(5)]
		segs := 2 + rng.IntN(20)
		var super []byte
		seg := 0
		for i := 0; i < segs; i++ {
			typ := codec.TypeData
			if rng.IntN(10) == 0 {
				typ = codec.TypeHandshake
			}
			sid := uint64(rng.IntN(3)) * 7919
			f := frame(t, typ, sid, uint64(i), string(make([]byte, payload)))
			seg = len(f)
			if rng.IntN(6) == 0 { // corrupt one prefix or header byte
				f[rng.IntN(16)] ^= byte(1 + rng.IntN(255))
			}
			super = append(super, f...)
		}
		if rng.IntN(3) == 0 { // a shorter last segment
			super = super[:len(super)-1-rng.IntN(seg-1)]
		}
		want, wantDrops, wantForeign := expectFrames(super, seg, e.cfg.MaxFrameBody)
		before := e.Stats()
		h.frames = 0
		b := e.pool.Get()
		m := conn.Message{N: copy(b.Data(), super), Addr: addr(uint16(it)), SegSize: seg}
		e.routeMessage(b, &m)
		e.publishRx()
		for _, s := range e.shards {
			for n := s.in.PopBatch(s.items); n > 0; n = s.in.PopBatch(s.items) {
				s.deliver(s.items[:n])
				clear(s.items[:n])
			}
		}
		if h.bad != "" {
			t.Fatal(h.bad)
		}
		after := e.Stats()
		gotDrops := [4]uint64{after.DropBadMagic - before.DropBadMagic, after.DropTruncated - before.DropTruncated,
			after.DropTooLarge - before.DropTooLarge, after.DropMalformed - before.DropMalformed}
		gotForeign := int(after.DropForeign - before.DropForeign) // no Config.Foreign: dropped
		if h.frames != want || gotDrops != wantDrops || gotForeign != wantForeign {
			t.Fatalf("iteration %d: %d frames, drops %v, foreign %d; the model says %d, %v, %d",
				it, h.frames, gotDrops, gotForeign, want, wantDrops, wantForeign)
		}
		if e.pool.Available() != e.pool.Cap() {
			t.Fatalf("iteration %d: %d of %d buffers back", it, e.pool.Available(), e.pool.Cap())
		}
	}
}
