package turnconn

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"

	"github.com/pion/stun/v3"

	"github.com/sttgo/stt/engine/conn"
)

// groRun concatenates datagrams of seg bytes each (the last may be
// shorter) into one GRO Message from the server.
func groRun(seg int, dgrams ...[]byte) conn.Message {
	var b []byte
	for i, d := range dgrams {
		if len(d) != seg && i != len(dgrams)-1 {
			panic("groRun: only the last datagram may be shorter")
		}
		b = append(b, d...)
	}
	return conn.Message{Buf: b, N: len(b), Addr: fakeServer, SegSize: seg}
}

type want struct {
	from netip.AddrPort
	data []byte
}

// collect reads until the fake is empty and returns the datagrams seen,
// runs split into their datagrams.
func collect(t *testing.T, m *Mux, batch int) []want {
	t.Helper()
	var got []want
	msgs := newMsgs(batch, 65536)
	for {
		n, err := m.ReadBatch(msgs)
		if errors.Is(err, errEmpty) {
			return got
		}
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Fatal("ReadBatch returned 0 without error")
		}
		for _, msg := range msgs[:n] {
			b := msg.Buf[:msg.N]
			seg := msg.SegSize
			if seg == 0 {
				seg = max(len(b), 1)
			}
			for off := 0; off < len(b) || (len(b) == 0 && off == 0); off += seg {
				got = append(got, want{msg.Addr, append([]byte(nil), b[off:min(off+seg, len(b))]...)})
				if len(b) == 0 {
					break
				}
			}
		}
	}
}

// check compares got with wants as multisets per source: datagrams a
// split GRO run queues may come after later datagrams of the same batch
// (UDP promises no order).
func check(t *testing.T, got, wants []want) {
	t.Helper()
	if len(got) != len(wants) {
		t.Fatalf("got %d datagrams, want %d", len(got), len(wants))
	}
	pending := map[string]int{}
	for _, w := range wants {
		pending[w.from.String()+string(w.data)]++
	}
	for i, g := range got {
		k := g.from.String() + string(g.data)
		if pending[k] == 0 {
			t.Fatalf("datagram %d from %v (%d bytes %x...) not expected", i, g.from, len(g.data), g.data[:min(8, len(g.data))])
		}
		pending[k]--
	}
}

// TestGROTwoChannels: a GRO run of ChannelData for two channels (pion's
// padded framing) delivers every datagram to its peer's synthetic
// address, the first peer's leading run in place, the rest through the
// overflow, in the same call when there are free Messages and in later
// calls when not.
func TestGROTwoChannels(t *testing.T) {
	for _, batch := range []int{8, 1} {
		for _, pad := range []bool{false, true} {
			f := &fakeBatch{}
			m, ps := offlineMux(t, f, true, netip.MustParseAddrPort("198.51.100.1:1000"), netip.MustParseAddrPort("198.51.100.2:2000"))
			const size = 1001 // padded to 1008 by pion
			var dg [][]byte
			var wants []want
			for i, who := range []int{0, 0, 0, 1, 0, 1, 1} {
				d := filled(byte(i*16), size)
				if i == 6 {
					d = d[:500]
				}
				dg = append(dg, channelData(ps[who].ch, d, pad))
				wants = append(wants, want{ps[who].synth, d})
			}
			seg := len(dg[0])
			// Another run after it: one peer only, stays a run.
			f.in = append(f.in, groRun(seg, dg...))
			d1, d2 := filled(0xA0, size), filled(0xB0, 300)
			f.in = append(f.in, groRun(seg, channelData(ps[1].ch, d1, pad), channelData(ps[1].ch, d2, pad)))
			wants = append(wants, want{ps[1].synth, d1}, want{ps[1].synth, d2})
			got := collect(t, m, batch)
			check(t, got, wants)
			if s := m.Stats(); s.ChannelDataIn != 9 || s.OverflowDropped != 0 {
				t.Fatalf("batch %d pad %v: stats %+v", batch, pad, s)
			}
		}
	}
}

// TestGROKeepsRun: a run of one channel stays one segmented Message with
// SegSize reduced by the header.
func TestGROKeepsRun(t *testing.T) {
	f := &fakeBatch{}
	m, ps := offlineMux(t, f, true, netip.MustParseAddrPort("198.51.100.1:1000"))
	var dg [][]byte
	for i := range 5 {
		dg = append(dg, channelData(ps[0].ch, filled(byte(i), 1200), false))
	}
	f.in = []conn.Message{groRun(1204, dg...)}
	msgs := newMsgs(4, 65536)
	n, err := m.ReadBatch(msgs)
	if err != nil || n != 1 {
		t.Fatalf("ReadBatch = %d, %v", n, err)
	}
	if msgs[0].SegSize != 1200 || msgs[0].N != 5*1200 || msgs[0].Addr != ps[0].synth {
		t.Fatalf("run: SegSize %d N %d Addr %v", msgs[0].SegSize, msgs[0].N, msgs[0].Addr)
	}
	for i := range 5 {
		if !bytes.Equal(msgs[0].Buf[i*1200:(i+1)*1200], filled(byte(i), 1200)) {
			t.Fatalf("segment %d corrupted", i)
		}
	}
}

// TestGROOverflowFull: datagrams beyond the overflow's bound are dropped
// and counted, never delivered corrupted.
func TestGROOverflowFull(t *testing.T) {
	f := &fakeBatch{}
	m, ps := offlineMux(t, f, true, netip.MustParseAddrPort("198.51.100.1:1000"), netip.MustParseAddrPort("198.51.100.2:2000"))
	var dg [][]byte
	total := ovfSlots + 10
	for i := range total + 1 {
		dg = append(dg, channelData(ps[i%2].ch, filled(byte(i), 100), false))
	}
	f.in = []conn.Message{groRun(104, dg...)}
	got := collect(t, m, 1)
	// 1 in place + ovfSlots queued.
	if len(got) != 1+ovfSlots {
		t.Fatalf("got %d datagrams, want %d", len(got), 1+ovfSlots)
	}
	if d := m.Stats().OverflowDropped; d != uint64(total-ovfSlots) {
		t.Fatalf("OverflowDropped = %d, want %d", d, total-ovfSlots)
	}
	for i, g := range got {
		if !bytes.Equal(g.data, filled(byte(i), 100)) || g.from != ps[i%2].synth {
			t.Fatalf("datagram %d wrong", i)
		}
	}
}

// TestReadMixed: from the server, ChannelData on an unknown channel and a
// malformed one are dropped and counted, a Binding response and other
// bytes pass unchanged, a Data indication from a new peer creates a
// synthetic address; from the synthetic prefix, datagrams are dropped;
// from elsewhere, they pass.
func TestReadMixed(t *testing.T) {
	f := &fakeBatch{}
	m, ps := offlineMux(t, f, true, netip.MustParseAddrPort("198.51.100.1:1000"))
	binding := []byte{0x01, 0x01, 0, 0, 0x21, 0x12, 0xA4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	newPeer := netip.MustParseAddrPort("[2001:db8::5]:7000")
	var txid [12]byte
	txid[3] = 9
	ind := make([]byte, sendIndicationLen(newPeer, 10))
	putSendIndication(ind, &txid, newPeer, filled(3, 10))
	ind[1] = byte(typeDataIndication) // Send -> Data indication: same layout
	other := netip.MustParseAddrPort("203.0.113.9:5000")
	f.in = []conn.Message{
		{Buf: channelData(0x4999, []byte("x"), false), N: 5, Addr: fakeServer},
		{Buf: []byte{0x40, 0x00, 0x00, 0x09, 1}, N: 5, Addr: fakeServer},
		{Buf: binding, N: len(binding), Addr: fakeServer},
		{Buf: ind, N: len(ind), Addr: fakeServer},
		{Buf: []byte("hello"), N: 5, Addr: ps[0].synth},
		{Buf: []byte("STT!"), N: 4, Addr: other},
		{Buf: channelData(ps[0].ch, []byte("relayed"), false), N: 11, Addr: fakeServer},
	}
	msgs := newMsgs(16, 2048)
	orig := make([][]byte, len(msgs))
	for i := range msgs {
		orig[i] = msgs[i].Buf
	}
	n, err := m.ReadBatch(msgs)
	if err != nil || n != 4 {
		t.Fatalf("ReadBatch = %d, %v", n, err)
	}
	// Compaction moves datagrams, never Bufs: the engine reads slot i's
	// datagram from the buffer it put in slot i.
	for i := range msgs {
		if &msgs[i].Buf[0] != &orig[i][0] {
			t.Fatalf("slot %d holds another slot's buffer after ReadBatch", i)
		}
	}
	if !bytes.Equal(msgs[0].Buf[:msgs[0].N], binding) || msgs[0].Addr != fakeServer {
		t.Fatal("Binding response not passed unchanged")
	}
	if !bytes.Equal(msgs[1].Buf[:msgs[1].N], filled(3, 10)) || !m.IsRelayed(msgs[1].Addr) {
		t.Fatalf("Data indication: %x from %v", msgs[1].Buf[:msgs[1].N], msgs[1].Addr)
	}
	if _, p, ok := m.Route(msgs[1].Addr); !ok || p != newPeer {
		t.Fatalf("Route(new peer) = %v, %v", p, ok)
	}
	if string(msgs[2].Buf[:msgs[2].N]) != "STT!" || msgs[2].Addr != other {
		t.Fatal("other datagram not passed")
	}
	if string(msgs[3].Buf[:msgs[3].N]) != "relayed" || msgs[3].Addr != ps[0].synth {
		t.Fatal("ChannelData not delivered")
	}
	s := m.Stats()
	if s.UnknownChannel != 1 || s.BadInput != 1 || s.SpoofedDropped != 1 || s.DataIndIn != 1 || s.ChannelDataIn != 1 || s.Peers != 2 {
		t.Fatalf("stats %+v", s)
	}
}

// TestReadNeverEmpty: a batch whose datagrams are all consumed is not
// returned as n == 0: ReadBatch reads on.
func TestReadNeverEmpty(t *testing.T) {
	f := &fakeBatch{}
	m, _ := offlineMux(t, f, true)
	f.in = []conn.Message{{Buf: channelData(0x4999, []byte("x"), false), N: 5, Addr: fakeServer}}
	n, err := m.ReadBatch(newMsgs(4, 2048))
	if !errors.Is(err, errEmpty) || n != 0 {
		t.Fatalf("ReadBatch = %d, %v; want the fake's errEmpty after the dropped datagram", n, err)
	}
}

// TestPeerLimit: Data indications from new peers beyond MaxPeers are
// dropped and counted; Via refuses with ErrTooManyPeers.
func TestPeerLimit(t *testing.T) {
	f := &fakeBatch{}
	m, err := New(f, Config{MaxPeers: 2, Servers: []Server{{Addr: fakeServer.String()}}})
	if err != nil {
		t.Fatal(err)
	}
	a := newAllocation(m, m.srvs[0], netip.MustParseAddrPort("192.0.2.1:50000"), 0)
	m.srvs[0].alloc.Store(a)
	for i := range 3 {
		peerAddr := netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}), 9)
		var txid [12]byte
		ind := make([]byte, sendIndicationLen(peerAddr, 4))
		putSendIndication(ind, &txid, peerAddr, []byte("data"))
		ind[1] = byte(typeDataIndication)
		f.in = append(f.in, conn.Message{Buf: ind, N: len(ind), Addr: fakeServer})
	}
	got := collect(t, m, 8)
	if len(got) != 2 || m.Stats().PeersRefused != 1 {
		t.Fatalf("delivered %d, refused %d", len(got), m.Stats().PeersRefused)
	}
	if _, err := m.Via(a.relayed, netip.MustParseAddrPort("198.51.100.200:1")); !errors.Is(err, ErrTooManyPeers) {
		t.Fatalf("Via at the limit: %v", err)
	}
}

// TestForget: a forgotten synthetic address stops (writes refused, its
// channel's datagrams dropped), the slot counts again against MaxPeers,
// and the peer gets a new address and channel when it comes back.
func TestForget(t *testing.T) {
	f := &fakeBatch{}
	m, ps := offlineMux(t, f, true, netip.MustParseAddrPort("198.51.100.1:1000"))
	old := ps[0]
	if !m.Forget(old.synth) || m.Forget(old.synth) {
		t.Fatal("Forget should report true once")
	}
	if n, err := m.WriteBatch([]conn.Message{{Buf: []byte("x"), N: 1, Addr: old.synth}}); n != 0 || !errors.Is(err, ErrNoRoute) {
		t.Fatalf("WriteBatch after Forget = %d, %v", n, err)
	}
	f.in = []conn.Message{{Buf: channelData(old.ch, []byte("late"), false), N: 8, Addr: fakeServer}}
	if got := collect(t, m, 4); len(got) != 0 || m.Stats().UnknownChannel != 1 || m.Stats().Peers != 0 {
		t.Fatalf("after Forget: %d delivered, stats %+v", len(got), m.Stats())
	}
	synth, err := m.Via(m.Relayed()[0], old.addr)
	if err != nil || synth == old.synth {
		t.Fatalf("Via after Forget = %v, %v", synth, err)
	}
	p := m.lookup(synth)
	if p.ch == old.ch {
		t.Fatal("channel number reused")
	}
	names := 0
	m.Stats().Each(func(string, uint64) { names++ })
	if names != 17 {
		t.Fatalf("Each reported %d counters", names)
	}
}

// TestFramingDecodedByPion: the Send indications and ChannelData runs
// WriteBatch emits, decoded by pion/stun and by the ChannelData layout.
func TestFramingDecodedByPion(t *testing.T) {
	f := &fakeBatch{}
	v6 := netip.MustParseAddrPort("[2001:db8::7]:4242")
	m, ps := offlineMux(t, f, false, v6, netip.MustParseAddrPort("198.51.100.1:1000"))
	ps[1].bound.Store(true)
	payload := filled(9, 333)
	run := filled(1, 2500)
	if n, err := m.WriteBatch([]conn.Message{
		{Buf: payload, N: len(payload), Addr: ps[0].synth},
		{Buf: run, N: len(run), Addr: ps[1].synth, SegSize: 1000},
	}); n != 2 || err != nil {
		t.Fatalf("WriteBatch = %d, %v", n, err)
	}
	if len(f.out) != 2 {
		t.Fatalf("%d datagrams out", len(f.out))
	}
	ind := f.out[0]
	msg := &stun.Message{Raw: ind.Buf}
	if err := msg.Decode(); err != nil || ind.Addr != fakeServer {
		t.Fatalf("Send indication: %v to %v", err, ind.Addr)
	}
	var peerAddr stun.XORMappedAddress
	if msg.Type != stun.NewType(stun.MethodSend, stun.ClassIndication) || peerAddr.GetFromAs(msg, stun.AttrXORPeerAddress) != nil {
		t.Fatalf("Send indication type %v", msg.Type)
	}
	data, err := msg.Get(stun.AttrData)
	if got, _ := netip.AddrFromSlice(peerAddr.IP); got != v6.Addr() || peerAddr.Port != int(v6.Port()) || err != nil || !bytes.Equal(data, payload) {
		t.Fatalf("Send indication to %v with %d bytes", peerAddr, len(data))
	}
	cd := f.out[1]
	if cd.SegSize != 1004 || cd.N != 3*4+2500 {
		t.Fatalf("ChannelData run: SegSize %d N %d", cd.SegSize, cd.N)
	}
	for i, want := range []int{1000, 1000, 500} {
		seg := cd.Buf[i*1004 : min((i+1)*1004, cd.N)]
		ch, d, err := parseChannelData(seg)
		if err != nil || ch != ps[1].ch || len(d) != want || !bytes.Equal(d, run[i*1000:i*1000+want]) {
			t.Fatalf("segment %d: channel %#x, %d bytes, %v", i, ch, len(d), err)
		}
	}
}

// TestGROOverflowBytes: jumbo datagrams of split runs in one batch fill
// the overflow's bytes before its slots; the rest are dropped and
// counted, and every datagram delivered is intact.
func TestGROOverflowBytes(t *testing.T) {
	f := &fakeBatch{}
	m, ps := offlineMux(t, f, true, netip.MustParseAddrPort("198.51.100.1:1000"), netip.MustParseAddrPort("198.51.100.2:2000"))
	const size, runs, per = 8952, 8, 7
	for r := range runs {
		var dg [][]byte
		for i := range per {
			dg = append(dg, channelData(ps[i%2].ch, filled(byte(r*per+i), size), false))
		}
		f.in = append(f.in, groRun(size+chanHeaderLen, dg...))
	}
	got := collect(t, m, runs)
	dropped := m.Stats().OverflowDropped
	if dropped == 0 || uint64(len(got))+dropped != runs*per {
		t.Fatalf("delivered %d + dropped %d, want %d in all with drops", len(got), dropped, runs*per)
	}
	queued := len(got) - runs // one in place per run
	if queued*size > ovfBytes || (queued+1)*size <= ovfBytes {
		t.Fatalf("%d queued datagrams of %d bytes for an overflow of %d", queued, size, ovfBytes)
	}
	for _, g := range got {
		i := int(g.data[0]) // filled(tag, n)[0] == tag
		if !bytes.Equal(g.data, filled(byte(i), size)) || g.from != ps[i%per%2].synth {
			t.Fatalf("datagram %d corrupted or misrouted", i)
		}
	}
}
