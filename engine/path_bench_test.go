package engine

import (
	"testing"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/engine/conn"
)

// The benchmarks in this file run the per-datagram work of the receive
// and send paths synchronously on the benchmark goroutine, without
// starting the engine: no goroutine hand-offs, so they isolate the CPU
// cost per datagram from the scheduler (BenchmarkReceive and friends
// include it).

// benchRouteDeliver routes one super-datagram (or, with seg 0, segs plain
// datagrams) of segs one-frame datagrams of size bytes and delivers it on
// the shard, per iteration.
func benchRouteDeliver(b *testing.B, size, segs int, gro bool) {
	h := newCountHandler()
	e, err := New(newFakeConn(conn.Caps{GRO: gro}), Config{Shards: 1, PoolBuffers: 256, Logger: quiet}, h)
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	var one []byte
	for p := size - codec.MinFrameLen; p >= 0 && len(one) != size; p-- {
		one = frame(b, codec.TypeData, 42, 1, string(make([]byte, p)))
	}
	if len(one) != size {
		b.Fatalf("no frame of %d bytes", size)
	}
	var super []byte
	for range segs {
		super = append(super, one...)
	}
	s := e.shards[0]
	msgs := segs
	if gro {
		msgs = 1
	}
	from := addr(7)
	b.ReportAllocs()
	b.SetBytes(int64(len(super)))
	for b.Loop() {
		for range msgs {
			buf := e.pool.Get()
			m := conn.Message{Addr: from}
			if gro {
				m.N, m.SegSize = copy(buf.Data(), super), len(one)
			} else {
				m.N = copy(buf.Data(), one)
			}
			e.routeMessage(buf, &m)
		}
		e.publishRx()
		n := s.in.PopBatch(s.items)
		s.deliver(s.items[:n])
		clear(s.items[:n])
	}
	if got := h.total.Load(); got != int64(b.N*segs) {
		b.Fatalf("delivered %d frames, want %d", got, b.N*segs)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*segs), "ns/datagram")
}

// BenchmarkRouteDeliver: route + decode + handler call per datagram, 64
// one-frame datagrams per iteration (a GRO run of 64 segments, or 64
// plain datagrams), at 64 and 1200 bytes.
func BenchmarkRouteDeliver(b *testing.B) {
	for _, bc := range []struct {
		name string
		size int
		gro  bool
	}{{"GRO/64B", 64, true}, {"GRO/1200B", 1200, true}, {"plain/64B", 64, false}, {"plain/1200B", 1200, false}} {
		b.Run(bc.name, func(b *testing.B) {
			segs := 64
			if bc.gro && bc.size*segs > LargeBufferSize {
				segs = 54
			}
			benchRouteDeliver(b, bc.size, segs, bc.gro)
		})
	}
}

// BenchmarkShardSend: Shard.Send (encode into the output) plus the flush
// per frame, 512 frames of one session per flush, synchronously.
func BenchmarkShardSend(b *testing.B) {
	for _, bc := range []struct {
		name string
		size int
		gso  bool
	}{{"GSO/64B", 64, true}, {"GSO/1200B", 1200, true}, {"plain/64B", 64, false}, {"plain/1200B", 1200, false}} {
		b.Run(bc.name, func(b *testing.B) {
			caps := conn.Caps{}
			if bc.gso {
				caps = conn.Caps{GSO: true, MaxSegments: 64}
			}
			c := newFakeConn(caps)
			c.onWrite = func([]conn.Message) {}
			e, err := New(c, Config{Shards: 1, MTU: bc.size, Logger: quiet}, newCountHandler())
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			f := mkFrame(codec.TypeData, 3, 0, 0)
			for p := bc.size - f.EncodedLen(); p > 0 && f.EncodedLen() != bc.size; p-- {
				f.Payload = make([]byte, p)
			}
			if f.EncodedLen() != bc.size {
				b.Fatalf("frame of %d bytes", f.EncodedLen())
			}
			s := e.shards[0]
			to := addr(9)
			const frames = 512
			b.ReportAllocs()
			b.SetBytes(frames * int64(bc.size))
			for b.Loop() {
				for range frames {
					f.Sequence++
					if err := s.Send(to, f); err != nil {
						b.Fatal(err)
					}
				}
				s.out.flush(s)
			}
			if st := e.Stats(); st.TxDatagrams != uint64(b.N*frames) {
				b.Fatalf("sent %d datagrams, want %d", st.TxDatagrams, b.N*frames)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*frames), "ns/frame")
		})
	}
}
