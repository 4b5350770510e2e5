package engine

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/engine/conn"
	"github.com/sttgo/stt/engine/conn/conntest"
)

// stunMsg builds a STUN-shaped message: type, a transaction id byte and
// attrLen bytes of attributes.
func stunMsg(typ uint16, id byte, attrLen int) []byte {
	b := make([]byte, STUNHeaderLen+attrLen)
	binary.BigEndian.PutUint16(b[0:], typ)
	binary.BigEndian.PutUint16(b[2:], uint16(attrLen))
	binary.BigEndian.PutUint32(b[4:], STUNMagicCookie)
	for i := 8; i < STUNHeaderLen; i++ {
		b[i] = id
	}
	return b
}

// channelData builds a ChannelData message on channel ch carrying data.
func channelData(ch uint16, data string) []byte {
	b := make([]byte, ChannelDataHeaderLen, ChannelDataHeaderLen+len(data))
	binary.BigEndian.PutUint16(b[0:], ch)
	binary.BigEndian.PutUint16(b[2:], uint16(len(data)))
	return append(b, data...)
}

func TestClassifyForeign(t *testing.T) {
	bad := stunMsg(0x0001, 1, 8)
	bad[7] ^= 1 // wrong cookie
	odd := stunMsg(0x0101, 1, 8)
	binary.BigEndian.PutUint16(odd[2:], 6) // length not a multiple of 4
	long := stunMsg(0x0101, 1, 8)
	binary.BigEndian.PutUint16(long[2:], 12) // announces more than present
	for _, c := range []struct {
		name string
		b    []byte
		want ForeignKind
	}{
		{"binding request", stunMsg(0x0001, 1, 0), STUN},
		{"binding success", stunMsg(0x0101, 1, 12), STUN},
		{"stun with trailing bytes", append(stunMsg(0x0101, 1, 12), 0, 0), STUN},
		{"stun wrong cookie", bad, NotForeign},
		{"stun length not multiple of 4", odd, NotForeign},
		{"stun length beyond datagram", long, NotForeign},
		{"stun header truncated", stunMsg(0x0001, 1, 0)[:19], NotForeign},
		{"stun first bits 10", append([]byte{0x80}, stunMsg(0x0001, 1, 0)[1:]...), NotForeign},
		{"channel data", channelData(0x4000, "hello"), ChannelData},
		{"channel data padded", append(channelData(0x4fff, "hello"), 0, 0, 0), ChannelData},
		{"channel data 0x7fff", channelData(0x7fff, ""), ChannelData},
		{"channel data truncated", channelData(0x4001, "hello")[:8], NotForeign},
		{"channel data header only 3 bytes", []byte{0x40, 0, 0}, NotForeign},
		{"first bits 11", []byte{0xc0, 0, 0, 0, 0}, NotForeign},
		{"empty", nil, NotForeign},
	} {
		if got := ClassifyForeign(c.b); got != c.want {
			t.Errorf("%s: ClassifyForeign = %d, want %d", c.name, got, c.want)
		}
	}
}

// foreignRecorder is a Config.Foreign that copies what it gets.
type foreignRecorder struct {
	mu   sync.Mutex
	got  [][]byte
	from []netip.AddrPort
	ch   chan struct{}
}

func newForeignRecorder() *foreignRecorder { return &foreignRecorder{ch: make(chan struct{}, 1024)} }

func (r *foreignRecorder) foreign(from netip.AddrPort, b []byte) {
	r.mu.Lock()
	r.got = append(r.got, bytes.Clone(b))
	r.from = append(r.from, from)
	r.mu.Unlock()
	r.ch <- struct{}{}
}

func (r *foreignRecorder) wait(t *testing.T, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		select {
		case <-r.ch:
		case <-time.After(10 * time.Second):
			t.Fatalf("only %d of %d foreign datagrams arrived", i, n)
		}
	}
}

// TestForeignDemux feeds STT frames, STUN and ChannelData messages and
// garbage through the receive loop: STT frames reach the handler, STUN and
// ChannelData reach Config.Foreign (also as GRO segments), garbage counts
// as bad magic, and nothing foreign reaches the handler.
func TestForeignDemux(t *testing.T) {
	c := newFakeConn(conn.Caps{GRO: true})
	h := newCountHandler()
	r := newForeignRecorder()
	e := startEngine(t, c, Config{Shards: 2, Foreign: r.foreign}, h)
	stun := stunMsg(0x0101, 7, 12)
	cd := channelData(0x4001, "relayed")
	seg := stunMsg(0x0101, 9, 4)
	var super []byte
	for i := 0; i < 3; i++ {
		super = append(super, seg...)
	}
	h.expect(2)
	c.feed <- []fakeDgram{
		{data: frame(t, codec.TypeData, 1, 1, "a"), from: addr(1)},
		{data: stun, from: addr(2)},
		{data: []byte("XX not stt, not stun"), from: addr(3)},
		{data: cd, from: addr(4)},
		{data: super, from: addr(5), seg: len(seg)},
		{data: frame(t, codec.TypeData, 2, 1, "b"), from: addr(1)},
	}
	<-h.ch
	r.wait(t, 5)
	r.mu.Lock()
	defer r.mu.Unlock()
	want := [][]byte{stun, cd, seg, seg, seg}
	wantFrom := []netip.AddrPort{addr(2), addr(4), addr(5), addr(5), addr(5)}
	for i := range want {
		if !bytes.Equal(r.got[i], want[i]) || r.from[i] != wantFrom[i] {
			t.Errorf("foreign datagram %d: %x from %v, want %x from %v", i, r.got[i], r.from[i], want[i], wantFrom[i])
		}
	}
	st := e.Stats()
	if st.RxSTUN != 4 || st.RxChannelData != 1 || st.DropForeign != 0 || st.DropBadMagic != 1 || st.FramesIn != 2 {
		t.Errorf("stats: stun %d, channel data %d, drop foreign %d, bad magic %d, frames %d; want 4, 1, 0, 1, 2",
			st.RxSTUN, st.RxChannelData, st.DropForeign, st.DropBadMagic, st.FramesIn)
	}
}

// TestForeignNil: without Config.Foreign, STUN and ChannelData datagrams
// are dropped under their own counter, not as bad magic.
func TestForeignNil(t *testing.T) {
	c := newFakeConn(conn.Caps{})
	h := newCountHandler()
	e := startEngine(t, c, Config{Shards: 1}, h)
	h.expect(1)
	c.feed <- []fakeDgram{
		{data: stunMsg(0x0001, 1, 0), from: addr(2)},
		{data: channelData(0x4000, "x"), from: addr(2)},
		{data: []byte{0xff, 0, 0, 0, 0}, from: addr(2)},
		{data: frame(t, codec.TypeData, 1, 1, "a"), from: addr(1)},
	}
	<-h.ch
	st := e.Stats()
	if st.RxSTUN != 1 || st.RxChannelData != 1 || st.DropForeign != 2 || st.DropBadMagic != 1 {
		t.Errorf("stats: stun %d, channel data %d, drop foreign %d, bad magic %d; want 1, 1, 2, 1",
			st.RxSTUN, st.RxChannelData, st.DropForeign, st.DropBadMagic)
	}
}

// TestAllocsForeign proves the demultiplexing of foreign datagrams (plain
// and GRO) allocates nothing, run synchronously on the receive path.
func TestAllocsForeign(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	calls := 0
	e, err := New(newFakeConn(conn.Caps{GRO: true}), Config{Shards: 1, PoolBuffers: 256, Logger: quiet,
		Foreign: func(netip.AddrPort, []byte) { calls++ }}, newCountHandler())
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	stun := stunMsg(0x0101, 3, 12)
	cd := channelData(0x4000, "data")
	route := func(d []byte, seg int) {
		b := e.pool.Get()
		m := conn.Message{Addr: addr(9), N: copy(b.Data(), d), SegSize: seg}
		e.routeMessage(b, &m)
		e.publishRx()
	}
	super := append(append(bytes.Clone(stun), stun...), stun...)
	fn := func() {
		route(stun, 0)
		route(cd, 0)
		route(super, len(stun))
	}
	if n := testing.AllocsPerRun(500, fn); n != 0 {
		t.Errorf("foreign demux: %v allocs per run", n)
	}
	if want := 501 * 5; calls != want {
		t.Errorf("Foreign called %d times, want %d", calls, want)
	}
	if a := e.pool.Available(); a != e.pool.Cap() {
		t.Errorf("%d of %d buffers back in the pool", a, e.pool.Cap())
	}
}

// TestSendRaw: raw datagrams leave alone (never coalesced with frames or
// with each other, not even into a GSO run), byte for byte, in order.
func TestSendRaw(t *testing.T) {
	for _, caps := range []conn.Caps{{}, {GSO: true, MaxSegments: 64}} {
		c := newFakeConn(caps)
		e, err := New(c, Config{Shards: 1, Logger: quiet}, newCountHandler())
		if err != nil {
			t.Fatal(err)
		}
		to := addr(3478)
		raw := [][]byte{stunMsg(0x0001, 1, 0), stunMsg(0x0001, 2, 0), stunMsg(0x0001, 3, 0)}
		f := mkFrame(codec.TypeHandshake, 0, 0, 20)
		for i, r := range raw {
			if err := e.SendRaw(to, r); err != nil {
				t.Fatal(err)
			}
			if err := e.Send(to, f); err != nil { // a handshake frame to the same address: same shard
				t.Fatal(err)
			}
			r[8] = 0xee // SendRaw copied: later changes do not matter
			raw[i] = stunMsg(0x0001, byte(i+1), 0)
		}
		if err := e.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for e.Stats().TxRaw < 3 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		var rawGot [][]byte
		frames := 0
		for _, batch := range c.recorded() {
			for _, m := range batch {
				if m.Addr != to {
					t.Errorf("message to %v, want %v", m.Addr, to)
				}
				if ClassifyForeign(m.Buf[:m.N]) == STUN {
					if m.SegSize != 0 {
						t.Errorf("caps %+v: raw datagram sent in a GSO run (seg %d)", caps, m.SegSize)
					}
					rawGot = append(rawGot, m.Buf[:m.N])
					continue
				}
				for d := m.Buf[:m.N]; len(d) > 0; frames++ {
					var fr codec.Frame
					n, err := codec.Decode(d, &fr)
					if err != nil {
						t.Fatalf("caps %+v: frame datagram does not decode: %v", caps, err)
					}
					d = d[n:]
				}
			}
		}
		if len(rawGot) != 3 || frames != 3 {
			t.Fatalf("caps %+v: %d raw datagrams and %d frames sent, want 3 and 3", caps, len(rawGot), frames)
		}
		for i := range raw {
			if !bytes.Equal(rawGot[i], raw[i]) {
				t.Errorf("caps %+v: raw datagram %d = %x, want %x", caps, i, rawGot[i], raw[i])
			}
		}
		st := e.Stats()
		if st.TxRaw != 3 || st.TxFrames != 3 {
			t.Errorf("caps %+v: TxRaw %d, TxFrames %d; want 3, 3", caps, st.TxRaw, st.TxFrames)
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		checkPools(t, e)
		if err := e.SendRaw(to, raw[0]); err != ErrClosed {
			t.Errorf("SendRaw after Close: %v, want ErrClosed", err)
		}
	}
}

// TestSendRawLimits: size bounds and backpressure instead of blocking.
func TestSendRawLimits(t *testing.T) {
	e, err := New(newFakeConn(conn.Caps{}), Config{Shards: 1, RawRingSize: 8, Logger: quiet}, newCountHandler())
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		e.Close()
		checkPools(t, e)
	}()
	if got, want := e.MaxRaw(), DefaultMTU+RawHeadroom; got != want {
		t.Errorf("MaxRaw = %d, want %d", got, want)
	}
	to := addr(1)
	if err := e.SendRaw(to, nil); !errors.Is(err, ErrRawSize) {
		t.Errorf("empty: %v, want ErrRawSize", err)
	}
	if err := e.SendRaw(to, make([]byte, e.MaxRaw()+1)); !errors.Is(err, ErrRawSize) {
		t.Errorf("MaxRaw+1 bytes: %v, want ErrRawSize", err)
	}
	// Not started: nothing drains the ring, so the 9th datagram finds it
	// (and the raw pool) full.
	for i := 0; i < 8; i++ {
		if err := e.SendRaw(to, make([]byte, e.MaxRaw())); err != nil {
			t.Fatalf("datagram %d: %v", i, err)
		}
	}
	if err := e.SendRaw(to, []byte{1}); err != ErrBackpressure {
		t.Errorf("full ring: %v, want ErrBackpressure", err)
	}
	if st := e.Stats(); st.RawBackpressure != 1 || st.RawPoolFree != 0 {
		t.Errorf("RawBackpressure %d, RawPoolFree %d; want 1, 0", st.RawBackpressure, st.RawPoolFree)
	}
}

// TestAllocsSendRaw proves SendRaw plus the shard's flush allocates
// nothing.
func TestAllocsSendRaw(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	c := newFakeConn(conn.Caps{})
	bc := newByteCounter(c)
	e := startEngine(t, c, Config{Shards: 2}, newCountHandler())
	msg := stunMsg(0x0001, 1, 8)
	send := func() {
		bc.expect(int64(4 * len(msg)))
		for i := 0; i < 4; i++ {
			if err := e.SendRaw(addr(uint16(i)), msg); err != nil {
				panic(err)
			}
		}
		<-bc.ch
	}
	send()
	if n := testing.AllocsPerRun(200, send); n != 0 {
		t.Errorf("SendRaw path: %v allocs per 4 datagrams", n)
	}
}

// TestForeignConntest runs two engines over the in-memory network: a STUN
// message that A sends with SendRaw reaches B's Config.Foreign with A's
// address, B answers with SendRaw, and STT frames between them still flow.
func TestForeignConntest(t *testing.T) {
	nw := conntest.NewNetwork(conntest.Config{Seed: 1})
	defer nw.Close()
	epA, err := nw.NewEndpoint()
	if err != nil {
		t.Fatal(err)
	}
	epB, err := nw.NewEndpoint()
	if err != nil {
		t.Fatal(err)
	}
	ra, rb := newForeignRecorder(), newForeignRecorder()
	ha, hb := newCountHandler(), newCountHandler()
	ea, err := New(epA, Config{Shards: 2, Logger: quiet, Foreign: ra.foreign}, ha)
	if err != nil {
		t.Fatal(err)
	}
	var eb *Engine
	reply := stunMsg(0x0101, 5, 12)
	eb, err = New(epB, Config{Shards: 2, Logger: quiet, Foreign: func(from netip.AddrPort, b []byte) {
		rb.foreign(from, b)
		if err := eb.SendRaw(from, reply); err != nil { // from the receive goroutine: never blocks
			t.Error(err)
		}
	}}, hb)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []*Engine{ea, eb} {
		if err := e.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() {
			e.Close()
			checkPools(t, e)
		}()
	}
	req := stunMsg(0x0001, 5, 0)
	hb.expect(1)
	if err := ea.SendRaw(epB.LocalAddr(), req); err != nil {
		t.Fatal(err)
	}
	if err := ea.Send(epB.LocalAddr(), mkFrame(codec.TypeData, 3, 1, 100)); err != nil {
		t.Fatal(err)
	}
	rb.wait(t, 1)
	ra.wait(t, 1)
	<-hb.ch
	if !bytes.Equal(rb.got[0], req) || rb.from[0] != epA.LocalAddr() {
		t.Errorf("B got %x from %v, want %x from %v", rb.got[0], rb.from[0], req, epA.LocalAddr())
	}
	if !bytes.Equal(ra.got[0], reply) || ra.from[0] != epB.LocalAddr() {
		t.Errorf("A got %x from %v, want %x from %v", ra.got[0], ra.from[0], reply, epB.LocalAddr())
	}
	if sa, sb := ea.Stats(), eb.Stats(); sa.TxRaw != 1 || sb.RxSTUN != 1 || sb.TxRaw != 1 || sa.RxSTUN != 1 || sb.FramesIn != 1 {
		t.Errorf("stats A %+v\nB %+v", sa, sb)
	}
}

// BenchmarkRouteForeign measures the receive path of one STUN datagram
// handed to Config.Foreign (route, classify, callback), synchronously.
func BenchmarkRouteForeign(b *testing.B) {
	e, err := New(newFakeConn(conn.Caps{}), Config{Shards: 1, PoolBuffers: 256, Logger: quiet,
		Foreign: func(netip.AddrPort, []byte) {}}, newCountHandler())
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	stun := stunMsg(0x0101, 3, 12)
	b.ReportAllocs()
	for b.Loop() {
		buf := e.pool.Get()
		m := conn.Message{Addr: addr(9), N: copy(buf.Data(), stun)}
		e.routeMessage(buf, &m)
		e.publishRx()
	}
}

// FuzzClassifyForeign checks ClassifyForeign against the RFC rules spelled
// out byte by byte, and that it never panics.
func FuzzClassifyForeign(f *testing.F) {
	f.Add(stunMsg(0x0001, 1, 0))
	f.Add(stunMsg(0x0101, 1, 12))
	f.Add(channelData(0x4000, "x"))
	f.Add([]byte("ST\x10"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		want := NotForeign
		switch {
		case len(b) >= 20 && b[0] < 0x40 && b[4] == 0x21 && b[5] == 0x12 && b[6] == 0xa4 && b[7] == 0x42 &&
			(int(b[2])<<8|int(b[3]))%4 == 0 && 20+(int(b[2])<<8|int(b[3])) <= len(b):
			want = STUN
		case len(b) >= 4 && b[0] >= 0x40 && b[0] <= 0x7f && 4+(int(b[2])<<8|int(b[3])) <= len(b):
			want = ChannelData
		}
		if got := ClassifyForeign(b); got != want {
			t.Fatalf("ClassifyForeign(%x) = %d, want %d", b, got, want)
		}
	})
}
