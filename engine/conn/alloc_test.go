package conn

import (
	"testing"
)

// pair is a loopback sender and receiver with pre-built batches.
type pair struct {
	a, b *UDPConn
	out  []Message
	in   []Message
	want int // datagrams per round
}

func newPair(t testing.TB, count, size, seg int, cfgA, cfgB Config) *pair {
	return newPairOn(t, "udp4", "127.0.0.1:0", count, size, seg, cfgA, cfgB)
}

func newPairOn(t testing.TB, network, addr string, count, size, seg int, cfgA, cfgB Config) *pair {
	p := &pair{a: listen(t, network, addr, cfgA), b: listen(t, network, addr, cfgB)}
	watchdog(t, p.b)
	for i := range count {
		buf := payload(i, size)
		p.out = append(p.out, Message{Buf: buf, N: size, Addr: p.b.LocalAddr(), SegSize: seg})
		if seg > 0 {
			p.want += (size + seg - 1) / seg
		} else {
			p.want++
		}
	}
	p.in = make([]Message, 64)
	for i := range p.in {
		p.in[i].Buf = make([]byte, MaxGROBytes)
	}
	return p
}

// round sends one batch and reads until every datagram of it arrived.
func (p *pair) round(t testing.TB) {
	if n, err := p.a.WriteBatch(p.out); n != len(p.out) || err != nil {
		t.Fatalf("WriteBatch = %d, %v", n, err)
	}
	for got := 0; got < p.want; {
		n, err := p.b.ReadBatch(p.in)
		if err != nil {
			t.Fatalf("ReadBatch: %v", err)
		}
		for _, m := range p.in[:n] {
			if m.SegSize > 0 {
				got += (m.N + m.SegSize - 1) / m.SegSize
			} else {
				got++
			}
		}
	}
}

func testAllocs(t *testing.T, p *pair) {
	p.round(t) // warm up: scratch sets, poller registration
	if n := testing.AllocsPerRun(100, func() { p.round(t) }); n != 0 {
		t.Fatalf("WriteBatch+ReadBatch allocate %.1f times per batch, want 0", n)
	}
}

func TestAllocsBatch(t *testing.T) {
	testAllocs(t, newPair(t, 32, 1200, 0, Config{}, Config{DisableGRO: true}))
}

func TestAllocsIPv6(t *testing.T) {
	probe, err := ListenUDP("udp6", "[::1]:0", Config{})
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	probe.Close()
	testAllocs(t, newPairOn(t, "udp6", "[::1]:0", 32, 1200, 0, Config{}, Config{DisableGRO: true}))
}

func TestAllocsGSO(t *testing.T) {
	p := newPair(t, 4, 16*1200, 1200, Config{}, Config{DisableGRO: true})
	requireGSOTB(t, p.a)
	testAllocs(t, p)
}

func TestAllocsGSOGRO(t *testing.T) {
	p := newPair(t, 4, 16*1200, 1200, Config{}, Config{})
	requireGSOTB(t, p.a)
	testAllocs(t, p)
}

func requireGSOTB(t testing.TB, c *UDPConn) {
	t.Helper()
	if !c.Caps().GSO || !c.Caps().GRO {
		t.Skip("kernel without UDP GSO/GRO")
	}
}

func benchPair(b *testing.B, count, size, seg int, cfgB Config) {
	p := newPair(b, count, size, seg, Config{}, cfgB)
	if seg > 0 {
		requireGSOTB(b, p.a)
	}
	p.round(b)
	b.ReportAllocs()
	b.SetBytes(int64(count * size))
	b.ResetTimer()
	for b.Loop() {
		p.round(b)
	}
	b.ReportMetric(float64(b.N*p.want)/b.Elapsed().Seconds(), "datagrams/s")
}

// BenchmarkBatch64x1200 sends and receives 64 datagrams of 1200 bytes per
// iteration through sendmmsg/recvmmsg.
func BenchmarkBatch64x1200(b *testing.B) { benchPair(b, 64, 1200, 0, Config{DisableGRO: true}) }

// BenchmarkBatch64x64 is the same with 64-byte datagrams.
func BenchmarkBatch64x64(b *testing.B) { benchPair(b, 64, 64, 0, Config{DisableGRO: true}) }

// BenchmarkGSO sends 4 GSO runs of 48 x 1200 bytes to a receiver without GRO.
func BenchmarkGSO(b *testing.B) { benchPair(b, 4, 48*1200, 1200, Config{DisableGRO: true}) }

// BenchmarkGSOGRO sends 4 GSO runs of 48 x 1200 bytes to a GRO receiver.
func BenchmarkGSOGRO(b *testing.B) { benchPair(b, 4, 48*1200, 1200, Config{}) }
