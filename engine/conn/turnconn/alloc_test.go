package turnconn

import (
	"net/netip"
	"testing"

	"github.com/sttgo/stt/engine/conn"
)

// relayPair is a Mux whose TURN "server" is a plain UDP socket the test
// drives: the allocation and a bound channel are installed directly, so
// the data plane runs over real sockets with nothing else allocating.
type relayPair struct {
	m     *Mux
	srv   *conn.UDPConn // plays the TURN server
	p     *peer
	out   []conn.Message // to the synthetic address, through the Mux
	in    []conn.Message // ChannelData from the "server" to the Mux
	mbuf  []conn.Message // the Mux's receive batch
	sbuf  []conn.Message // the server's receive batch
	count int
}

func newRelayPair(t testing.TB, count, size, seg int, gro bool) *relayPair {
	t.Helper()
	srv := listenUDP(t, conn.Config{DisableGRO: !gro})
	udp := listenUDP(t, conn.Config{DisableGRO: !gro})
	m, err := New(udp, Config{Servers: []Server{{Addr: srv.LocalAddr().String()}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	a := newAllocation(m, m.srvs[0], netip.MustParseAddrPort("127.0.0.1:40000"), 1<<40)
	m.srvs[0].alloc.Store(a)
	p, err := m.peerFor(a, netip.MustParseAddrPort("198.51.100.7:7000"))
	if err != nil {
		t.Fatal(err)
	}
	p.bound.Store(true)
	a.mu.Lock()
	a.pending = nil
	a.mu.Unlock()
	rp := &relayPair{m: m, srv: srv, p: p, count: count}
	for i := range count {
		b := filled(byte(i), size)
		rp.out = append(rp.out, conn.Message{Buf: b, N: size, Addr: p.synth, SegSize: seg})
		cd := channelData(p.ch, filled(byte(i), size), false)
		rp.in = append(rp.in, conn.Message{Buf: cd, N: len(cd), Addr: udp.LocalAddr()})
	}
	if gro && seg == 0 {
		// The server sends one GSO run, so that the Mux's socket gets
		// GRO runs (loopback coalesces only what was sent segmented).
		var run []byte
		for _, m := range rp.in {
			run = append(run, m.Buf[:m.N]...)
		}
		rp.in = []conn.Message{{Buf: run, N: len(run), Addr: udp.LocalAddr(), SegSize: size + chanHeaderLen}}
	}
	rp.mbuf, rp.sbuf = newMsgs(64, conn.MaxGROBytes), newMsgs(64, conn.MaxGROBytes)
	return rp
}

// datagrams counts the datagrams of msgs.
func datagrams(msgs []conn.Message) int {
	n := 0
	for _, m := range msgs {
		if m.SegSize > 0 {
			n += (m.N + m.SegSize - 1) / m.SegSize
		} else {
			n++
		}
	}
	return n
}

// write sends the batch through the Mux and reads it at the server.
func (rp *relayPair) write(t testing.TB) {
	if n, err := rp.m.WriteBatch(rp.out); n != len(rp.out) || err != nil {
		t.Fatalf("WriteBatch = %d, %v", n, err)
	}
	want := datagrams(rp.out)
	for got := 0; got < want; {
		n, err := rp.srv.ReadBatch(rp.sbuf)
		if err != nil {
			t.Fatal(err)
		}
		got += datagrams(rp.sbuf[:n])
	}
}

// read sends ChannelData from the server and reads it through the Mux.
func (rp *relayPair) read(t testing.TB) {
	if n, err := rp.srv.WriteBatch(rp.in); n != len(rp.in) || err != nil {
		t.Fatalf("server WriteBatch = %d, %v", n, err)
	}
	for got := 0; got < rp.count; {
		n, err := rp.m.ReadBatch(rp.mbuf)
		if err != nil {
			t.Fatal(err)
		}
		for _, msg := range rp.mbuf[:n] {
			if msg.Addr != rp.p.synth {
				t.Fatalf("datagram from %v", msg.Addr)
			}
		}
		got += datagrams(rp.mbuf[:n])
	}
}

func requireGSO(t testing.TB, c conn.Batch) {
	if !c.Caps().GSO || !c.Caps().GRO {
		t.Skip("kernel without UDP GSO/GRO")
	}
}

// TestAllocsWrite: WriteBatch to a bound channel allocates nothing in
// steady state (single datagrams and GSO runs).
func TestAllocsWrite(t *testing.T) {
	for _, tc := range []struct {
		name            string
		count, size, sg int
	}{{"batch", 32, 1200, 0}, {"gso", 4, 16 * 1200, 1200}} {
		t.Run(tc.name, func(t *testing.T) {
			rp := newRelayPair(t, tc.count, tc.size, tc.sg, tc.sg > 0)
			if tc.sg > 0 {
				requireGSO(t, rp.m)
			}
			rp.write(t)
			if n := testing.AllocsPerRun(100, func() { rp.write(t) }); n != 0 {
				t.Fatalf("WriteBatch to a bound channel allocates %.1f times per batch", n)
			}
		})
	}
}

// TestAllocsRead: ReadBatch of ChannelData allocates nothing in steady
// state (with GRO on, runs of the channel are compacted in place).
func TestAllocsRead(t *testing.T) {
	for _, gro := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "gro"}[gro], func(t *testing.T) {
			rp := newRelayPair(t, 32, 1200, 0, gro)
			if gro {
				requireGSO(t, rp.srv)
			}
			rp.read(t)
			if n := testing.AllocsPerRun(100, func() { rp.read(t) }); n != 0 {
				t.Fatalf("ReadBatch of ChannelData allocates %.1f times per batch", n)
			}
		})
	}
}

// TestAllocsFake: the same paths over the in-memory fake, plus Send
// indications and a GRO run split across two channels (the overflow).
func TestAllocsFake(t *testing.T) {
	f := &fakeBatch{discard: true, loop: true}
	m, ps := offlineMux(t, f, true, netip.MustParseAddrPort("198.51.100.1:1000"), netip.MustParseAddrPort("[2001:db8::1]:2000"))
	unbound, err := m.peerFor(m.srvs[0].alloc.Load(), netip.MustParseAddrPort("198.51.100.3:3000"))
	if err != nil {
		t.Fatal(err)
	}
	var dg [][]byte
	for i := range 8 {
		dg = append(dg, channelData(ps[i%2].ch, filled(byte(i), 1200), false))
	}
	f.in = []conn.Message{groRun(1204, dg...)}
	out := []conn.Message{
		{Buf: filled(1, 1200), N: 1200, Addr: ps[0].synth},
		{Buf: filled(2, 4800), N: 4800, Addr: ps[1].synth, SegSize: 1200},
		{Buf: filled(3, 1200), N: 1200, Addr: unbound.synth},
		{Buf: filled(4, 1200), N: 1200, Addr: netip.MustParseAddrPort("203.0.113.1:9")},
	}
	msgs := newMsgs(4, 65536)
	round := func() {
		if n, err := m.WriteBatch(out); n != len(out) || err != nil {
			t.Fatalf("WriteBatch = %d, %v", n, err)
		}
		for got := 0; got < 8; {
			n, err := m.ReadBatch(msgs)
			if err != nil {
				t.Fatal(err)
			}
			got += datagrams(msgs[:n])
		}
	}
	round()
	if n := testing.AllocsPerRun(100, round); n != 0 {
		t.Fatalf("a round allocates %.1f times", n)
	}
}
