package engine

import (
	"testing"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/engine/conn"
)

// BenchmarkReceive measures the receive -> route -> deliver cost per
// datagram (batches of 64 one-frame datagrams of 1200 bytes over a fake
// conn; includes the goroutine hand-offs).
func BenchmarkReceive(b *testing.B) {
	c := newFakeConn(conn.Caps{})
	h := newCountHandler()
	startEngine(b, c, Config{}, h)
	batch := rxBatch(b, 64, 1200-codec.MinFrameLen-2)
	b.ReportAllocs()
	b.SetBytes(int64(64 * len(batch[0].data)))
	for b.Loop() {
		h.expect(64)
		c.feed <- batch
		<-h.ch
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*64), "ns/datagram")
}

// BenchmarkSend measures Engine.Send plus the shard's flush per frame
// (64 frames of 1200 bytes per iteration, to 4 peers).
func BenchmarkSend(b *testing.B) {
	for _, bc := range []struct {
		name string
		caps conn.Caps
	}{{"plain", conn.Caps{}}, {"GSO", conn.Caps{GSO: true, MaxSegments: 64}}} {
		b.Run(bc.name, func(b *testing.B) {
			c := newFakeConn(bc.caps)
			cnt := newByteCounter(c)
			e := startEngine(b, c, Config{}, newCountHandler())
			f := mkFrame(codec.TypeData, 1, 0, 0)
			f.Payload = make([]byte, 1200-f.EncodedLen()-1)
			total := int64(64 * f.EncodedLen())
			b.ReportAllocs()
			b.SetBytes(total)
			for b.Loop() {
				cnt.expect(total)
				for i := 0; i < 64; i++ {
					for e.Send(addr(uint16(i&3)), f) != nil {
					}
				}
				<-cnt.ch
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*64), "ns/frame")
		})
	}
}

// BenchmarkReceiveGRO measures the receive path per datagram when the conn
// delivers GRO super-datagrams (4 runs of 50 x 1200-byte segments per
// iteration, one session each).
func BenchmarkReceiveGRO(b *testing.B) {
	c := newFakeConn(conn.Caps{GRO: true})
	h := newCountHandler()
	startEngine(b, c, Config{Shards: 2, PoolBuffers: 256}, h)
	var batch []fakeDgram
	seg := 0
	for r := 0; r < 4; r++ {
		var super []byte
		for i := 0; i < 50; i++ {
			f := frame(b, codec.TypeData, uint64(r)*7919, uint64(i), string(make([]byte, 1200-codec.MinFrameLen-2)))
			seg = len(f)
			super = append(super, f...)
		}
		batch = append(batch, fakeDgram{data: super, from: addr(uint16(r)), seg: seg})
	}
	b.ReportAllocs()
	b.SetBytes(int64(200 * seg))
	for b.Loop() {
		h.expect(200)
		c.feed <- batch
		<-h.ch
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*200), "ns/datagram")
}
