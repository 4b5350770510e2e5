package turnconn

import (
	"net/netip"
	"testing"

	"github.com/sttgo/stt/engine/conn"
)

func benchRelay(b *testing.B, count, size, seg int, gro, read bool) {
	rp := newRelayPair(b, count, size, seg, gro)
	if seg > 0 || gro {
		requireGSO(b, rp.m)
	}
	op := rp.write
	n := datagrams(rp.out)
	if read {
		op, n = rp.read, count
	}
	op(b)
	b.ReportAllocs()
	b.SetBytes(int64(count * size))
	b.ResetTimer()
	for b.Loop() {
		op(b)
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "datagrams/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/datagram")
}

// BenchmarkWrite64x1200 sends 64 datagrams of 1200 bytes per iteration
// to a bound channel through the Mux (ChannelData, sendmmsg) and reads
// them at the "server" socket.
func BenchmarkWrite64x1200(b *testing.B) { benchRelay(b, 64, 1200, 0, false, false) }

// BenchmarkWriteGSO sends 4 GSO runs of 48 x 1200 bytes (ChannelData runs
// of 48 x 1204).
func BenchmarkWriteGSO(b *testing.B) { benchRelay(b, 4, 48*1200, 1200, true, false) }

// BenchmarkRead64x1200 has the "server" send 64 ChannelData datagrams
// per iteration, read through the Mux (recvmmsg, header stripped).
func BenchmarkRead64x1200(b *testing.B) { benchRelay(b, 64, 1200, 0, false, true) }

// BenchmarkReadGRO is the same sent as one GSO run, received as GRO runs
// of one channel (compacted in place).
func BenchmarkReadGRO(b *testing.B) { benchRelay(b, 64, 1200, 0, true, true) }

// BenchmarkDirect64x1200 is the baseline of the same sockets without
// TURN framing: the UDP write and read the Mux adds its work to.
func BenchmarkDirect64x1200(b *testing.B) {
	rp := newRelayPair(b, 64, 1200, 0, false)
	to := rp.srv.LocalAddr()
	for i := range rp.out {
		rp.out[i].Addr = to
	}
	rp.write(b)
	b.ReportAllocs()
	b.SetBytes(64 * 1200)
	b.ResetTimer()
	for b.Loop() {
		rp.write(b)
	}
	b.ReportMetric(float64(b.N*64)/b.Elapsed().Seconds(), "datagrams/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*64), "ns/datagram")
}

// BenchmarkFrame measures WriteBatch's framing alone (the fake socket
// discards): 64 datagrams of 1200 bytes to a bound channel.
func BenchmarkFrame(b *testing.B) {
	f := &fakeBatch{discard: true}
	m, ps := offlineMux(b, f, true, netip.MustParseAddrPort("198.51.100.1:1000"))
	out := make([]conn.Message, 64)
	for i := range out {
		out[i] = conn.Message{Buf: filled(byte(i), 1200), N: 1200, Addr: ps[0].synth}
	}
	b.ReportAllocs()
	b.SetBytes(64 * 1200)
	for b.Loop() {
		if _, err := m.WriteBatch(out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*64), "ns/datagram")
}

// BenchmarkDecode measures ReadBatch's decoding alone (the fake socket
// hands out the same 64 ChannelData datagrams of 1200 bytes).
func BenchmarkDecode(b *testing.B) {
	f := &fakeBatch{loop: true}
	m, ps := offlineMux(b, f, true, netip.MustParseAddrPort("198.51.100.1:1000"))
	for i := range 64 {
		cd := channelData(ps[0].ch, filled(byte(i), 1200), false)
		f.in = append(f.in, conn.Message{Buf: cd, N: len(cd), Addr: fakeServer})
	}
	msgs := newMsgs(64, 2048)
	b.ReportAllocs()
	b.SetBytes(64 * 1200)
	for b.Loop() {
		if n, err := m.ReadBatch(msgs); n != 64 || err != nil {
			b.Fatalf("ReadBatch = %d, %v", n, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*64), "ns/datagram")
}
