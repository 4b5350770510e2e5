package engine

import (
	"net/netip"
	"testing"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/engine/conn"
)

// FuzzRoute feeds arbitrary datagrams (optionally as GRO runs) through the
// receive loop's routing and the shards' frame decoding, synchronously, and
// checks that nothing panics, every delivered frame re-encodes within the
// datagram, every STUN or ChannelData datagram (segment) reaches
// Config.Foreign, and every buffer returns to the pool.
func FuzzRoute(f *testing.F) {
	f.Add(frame(f, codec.TypeData, 1, 2, "hello"), 0)
	f.Add(frame(f, codec.TypeHandshake, 0, 0, "hs"), 0)
	two := append(frame(f, codec.TypeData, 3, 1, "a"), frame(f, codec.TypeData, 3, 2, "bb")...)
	f.Add(two, 0)
	f.Add(two, 36)
	f.Add([]byte("ST\x80"), 0)
	f.Add([]byte{}, 0)
	f.Add([]byte("XX"), 1)
	f.Add(stunMsg(0x0101, 1, 12), 0)
	f.Add(append(stunMsg(0x0101, 1, 0), stunMsg(0x0101, 2, 0)...), STUNHeaderLen)
	f.Add(channelData(0x4000, "relayed"), 0)
	h := &fuzzHandler{}
	c := newFakeConn(conn.Caps{GRO: true})
	foreign := 0
	e, err := New(c, Config{Shards: 3, BatchSize: 4, PoolBuffers: 16, RingSize: 4, Logger: quiet,
		Foreign: func(_ netip.AddrPort, b []byte) {
			if ClassifyForeign(b) == NotForeign {
				h.bad = "Config.Foreign got a datagram that is neither STUN nor ChannelData"
			}
			foreign++
		}}, h)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte, seg int) {
		b := e.pool.Get()
		m := conn.Message{N: copy(b.Data(), data), Addr: addr(9), SegSize: seg}
		if seg < 0 {
			m.SegSize = 0
		}
		want, wantDrops, wantForeign := expectFrames(data[:m.N], m.SegSize, e.cfg.MaxFrameBody)
		h.frames, foreign = 0, 0
		before := e.Stats()
		e.routeMessage(b, &m)
		e.publishRx()
		for _, s := range e.shards {
			for {
				n := s.in.PopBatch(s.items)
				if n == 0 {
					break
				}
				s.deliver(s.items[:n])
				clear(s.items[:n])
			}
		}
		if h.bad != "" {
			t.Fatal(h.bad)
		}
		if foreign != wantForeign {
			t.Fatalf("Config.Foreign called %d times, the reference model says %d", foreign, wantForeign)
		}
		if h.frames != want {
			t.Fatalf("delivered %d frames, the reference model says %d", h.frames, want)
		}
		if e.pool.Available() != e.pool.Cap() {
			t.Fatalf("%d of %d buffers back", e.pool.Available(), e.pool.Cap())
		}
		after := e.Stats()
		gotDrops := [4]uint64{after.DropBadMagic - before.DropBadMagic, after.DropTruncated - before.DropTruncated,
			after.DropTooLarge - before.DropTooLarge, after.DropMalformed - before.DropMalformed}
		if gotDrops != wantDrops {
			t.Fatalf("first-frame drops (magic, truncated, too large, other) %v, the reference model says %v", gotDrops, wantDrops)
		}
	})
}

// expectFrames is the reference model of delivery: each datagram (GRO
// segment) yields its frames up to the first that does not decode. It also
// returns the datagrams whose first frame does not decode, by reason (bad
// magic, truncated, too large, other), and apart from those the datagrams
// that fail the magic check and are STUN or ChannelData (foreign).
func expectFrames(data []byte, seg, maxBody int) (int, [4]uint64, int) {
	if seg <= 0 || seg >= len(data) {
		seg = max(len(data), 1)
	}
	total, foreign := 0, 0
	var drops [4]uint64
	for off := 0; off < len(data) || off == 0; off += seg {
		d := data[off:min(off+seg, len(data))]
		for first := true; len(d) > 0 || first; first = false {
			var f codec.Frame
			k, err := codec.DecodeLimit(d, &f, maxBody)
			if err != nil {
				switch {
				case !first:
				case err == codec.ErrBadMagic && ClassifyForeign(d) != NotForeign:
					foreign++
				default:
					drops[dropReason(err)-cDropBadMagic]++
				}
				break
			}
			total++
			d = d[k:]
		}
		if len(data) == 0 {
			break
		}
	}
	return total, drops, foreign
}

type fuzzHandler struct {
	bad    string
	frames int
}

func (h *fuzzHandler) HandleBatch(s *Shard, batch []Inbound) {
	h.frames += len(batch)
	var buf [1 << 16]byte
	for i := range batch {
		in := &batch[i]
		n, err := in.Frame.Encode(buf[:])
		if err != nil || n > in.Buf.Len() {
			h.bad = "delivered frame does not fit its datagram"
		}
		if in.Buf.Refs() < 1 {
			h.bad = "delivered frame's buffer has no reference"
		}
	}
}
