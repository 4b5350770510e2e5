package engine

import (
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/engine/conn"
)

// wait blocks until ch is ready; the long timeout only turns a hang into a
// failure, it asserts nothing about speed.
func wait(t testing.TB, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(60 * time.Second):
		t.Fatal("timed out waiting for the engine (hang)")
	}
}

func TestConfig(t *testing.T) {
	c, err := Config{}.withDefaults(conn.Caps{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Shards < 1 || c.BatchSize != 64 || c.BufferSize != SmallBufferSize || c.MTU != 1200 ||
		c.PoolBuffers != 4096 || c.RingSize != 1024 || c.MaxFrameBody != SmallBufferSize || c.Logger == nil {
		t.Fatalf("defaults: %+v", c)
	}
	c, err = Config{}.withDefaults(conn.Caps{GRO: true, GSO: true})
	if err != nil || c.BufferSize != LargeBufferSize || c.PoolBuffers != 1024 {
		t.Fatalf("GRO defaults: %+v %v", c, err)
	}
	for _, bad := range []Config{
		{Shards: -1}, {BatchSize: 5000}, {MTU: 10}, {MTU: 3000}, {BufferSize: 1000, MTU: 1200},
		{PoolBuffers: 10, BatchSize: 64}, {MaxFrameBody: codec.DefaultMaxBody + 1},
		{RingSize: 1<<20 + 1}, {SendRingSize: 1 << 30}, {PoolBuffers: 1 << 21}, {BufferSize: 1 << 21},
	} {
		if _, err := bad.withDefaults(conn.Caps{}); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: err %v, want ErrConfig", bad, err)
		}
	}
	if _, err := (Config{BufferSize: 4096}).withDefaults(conn.Caps{GRO: true}); !errors.Is(err, ErrConfig) {
		t.Errorf("small buffers with GRO accepted: %v", err)
	}
	if _, err := New(newFakeConn(conn.Caps{}), Config{}, nil); !errors.Is(err, ErrConfig) {
		t.Errorf("nil handler: %v", err)
	}
}

func TestShardOfSessionStableAndSpread(t *testing.T) {
	e, err := New(newFakeConn(conn.Caps{}), Config{Shards: 8, Logger: quiet}, newCountHandler())
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	e2, _ := New(newFakeConn(conn.Caps{}), Config{Shards: 8, Logger: quiet}, newCountHandler())
	defer e2.Close()
	counts := make([]int, 8)
	const n = 80000
	for i := uint64(0); i < n; i++ {
		var id codec.SessionID
		putSID(&id, i) // sequential ids: the worst case for a weak hash
		s := e.ShardOfSession(id)
		if s != e.ShardOfSession(id) || s != e2.ShardOfSession(id) {
			t.Fatal("session routing not stable")
		}
		counts[s]++
	}
	for i, c := range counts {
		if c < n/8*9/10 || c > n/8*11/10 {
			t.Errorf("shard %d got %d of %d sessions (want %d +-10%%)", i, c, n, n/8)
		}
	}
	// Addresses spread too.
	counts = make([]int, 8)
	for p := 0; p < n; p++ {
		a := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(p >> 8), byte(p)}), uint16(40000+p%7))
		s := e.ShardOfAddr(a)
		if s != e.ShardOfAddr(a) {
			t.Fatal("address routing not stable")
		}
		counts[s]++
	}
	for i, c := range counts {
		if c < n/8*9/10 || c > n/8*11/10 {
			t.Errorf("shard %d got %d of %d addresses", i, c, n)
		}
	}
}

// TestRouting feeds data frames of many sessions and handshake frames from
// several addresses, and checks each arrives once, on the right shard.
func TestRouting(t *testing.T) {
	c := newFakeConn(conn.Caps{})
	const sessions, perSession, hsAddrs = 40, 5, 10
	want := sessions*perSession + hsAddrs*3
	h := newRecordHandler(want)
	e := startEngine(t, c, Config{Shards: 4, BatchSize: 16}, h)
	var dgs []fakeDgram
	for seq := 0; seq < perSession; seq++ {
		for s := 0; s < sessions; s++ {
			dgs = append(dgs, fakeDgram{data: frame(t, codec.TypeData, uint64(s)+1, uint64(seq), fmt.Sprint(s, "/", seq)), from: addr(1000)})
		}
	}
	for a := 0; a < hsAddrs; a++ {
		for k := 0; k < 3; k++ { // different session ids, same address
			dgs = append(dgs, fakeDgram{data: frame(t, codec.TypeHandshake, uint64(a*100+k), 0, "hs"), from: addr(uint16(2000 + a))})
		}
	}
	c.feed <- dgs
	wait(t, h.ch)
	got := h.get()
	if len(got) != want {
		t.Fatalf("got %d frames, want %d", len(got), want)
	}
	lastSeq := map[codec.SessionID]int{}
	used := map[int]bool{}
	for _, r := range got {
		used[r.shard] = true
		if !r.sameBuf {
			t.Error("Inbound.Buf not referenced during the call")
		}
		if r.hdr.Type == codec.TypeHandshake {
			if r.shard != e.ShardOfAddr(r.from) {
				t.Errorf("handshake from %v on shard %d, want %d", r.from, r.shard, e.ShardOfAddr(r.from))
			}
			continue
		}
		if r.shard != e.ShardOfSession(r.hdr.SessionID) {
			t.Errorf("session %x on shard %d, want %d", r.hdr.SessionID, r.shard, e.ShardOfSession(r.hdr.SessionID))
		}
		// Per-session order is preserved.
		if prev, ok := lastSeq[r.hdr.SessionID]; ok && int(r.hdr.Sequence) != prev+1 {
			t.Errorf("session %x: seq %d after %d", r.hdr.SessionID, r.hdr.Sequence, prev)
		}
		lastSeq[r.hdr.SessionID] = int(r.hdr.Sequence)
	}
	if len(used) < 3 {
		t.Errorf("only %d of 4 shards used", len(used))
	}
	st := e.Stats()
	if st.RxDatagrams != uint64(want) || st.FramesIn != uint64(want) || st.RxMessages != uint64(want) {
		t.Errorf("stats: %+v", st)
	}
}

// TestMalformedCounted checks each drop reason and that a bad later frame
// drops only the rest of its datagram.
func TestMalformedCounted(t *testing.T) {
	c := newFakeConn(conn.Caps{})
	h := newRecordHandler(3)
	e := startEngine(t, c, Config{Shards: 2, MaxFrameBody: 500}, h)
	good := frame(t, codec.TypeData, 7, 1, "ok")
	big := frame(t, codec.TypeData, 7, 2, string(make([]byte, 600)))
	tooSmall := append([]byte(nil), good...)
	tooSmall[2] = 5 // body length 5 < header
	overlong := append([]byte(nil), good...)
	overlong[2] = 0x80 | overlong[2] // non-minimal varint
	overlong = append(overlong[:3], append([]byte{0x00}, overlong[3:]...)...)
	twoThenBad := append(append(append([]byte(nil), good...), frame(t, codec.TypeData, 7, 3, "second")...), 'X', 'Y', 'Z')
	c.feed <- []fakeDgram{
		{data: []byte("XX garbage"), from: addr(1)}, // bad magic
		{data: good[:len(good)-1], from: addr(1)},   // truncated
		{data: nil, from: addr(1)},                  // empty: truncated
		{data: big, from: addr(1)},                  // too large
		{data: tooSmall, from: addr(1)},             // other
		{data: overlong, from: addr(1)},             // other (varint)
		{data: twoThenBad, from: addr(1)},           // 2 frames, then a bad one
		{data: good, from: addr(1)},
	}
	wait(t, h.ch)
	e.Close()
	st := e.Stats()
	if st.DropBadMagic != 1 || st.DropTruncated != 2 || st.DropTooLarge != 1 || st.DropMalformed != 2 || st.DropBadFrame != 1 {
		t.Errorf("drop counters: magic %d trunc %d large %d other %d badframe %d",
			st.DropBadMagic, st.DropTruncated, st.DropTooLarge, st.DropMalformed, st.DropBadFrame)
	}
	got := h.get()
	if len(got) != 3 || got[0].payload != "ok" || got[1].payload != "second" || got[2].payload != "ok" {
		t.Errorf("delivered %+v", got)
	}
}

// TestGROSplit checks that a GRO super-datagram is split by SegSize and its
// segments are routed independently (here to different sessions).
func TestGROSplit(t *testing.T) {
	c := newFakeConn(conn.Caps{GRO: true})
	const segs = 9
	h := newRecordHandler(segs)
	e := startEngine(t, c, Config{Shards: 3, PoolBuffers: 256}, h)
	var super []byte
	var seg int
	for i := 0; i < segs; i++ {
		f := frame(t, codec.TypeData, uint64(i), uint64(i), "0123456789")
		seg = len(f)
		super = append(super, f...)
	}
	super = super[:len(super)-3] // last segment shorter: truncated frame
	h.want = segs - 1
	c.feed <- []fakeDgram{{data: super, from: addr(5), seg: seg}}
	wait(t, h.ch)
	e.Close()
	st := e.Stats()
	if st.RxGRO != 1 || st.RxDatagrams != segs || st.DropTruncated != 1 || st.FramesIn != segs-1 {
		t.Errorf("stats %+v", st)
	}
	for _, r := range h.get() {
		if r.shard != e.ShardOfSession(r.hdr.SessionID) {
			t.Errorf("segment of session %x on shard %d", r.hdr.SessionID, r.shard)
		}
	}
}

// TestRingFullDrop blocks the only shard in its handler and overfills its
// ring: the excess is counted and every buffer comes back.
func TestRingFullDrop(t *testing.T) {
	c := newFakeConn(conn.Caps{})
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	h := &blockingHandler{entered: entered, release: release}
	e := startEngine(t, c, Config{Shards: 1, BatchSize: 4, RingSize: 4, PoolBuffers: 64}, h)
	c.feed <- []fakeDgram{{data: frame(t, codec.TypeData, 1, 0, "first"), from: addr(1)}}
	wait(t, entered) // the shard is now stuck in the handler
	var dgs []fakeDgram
	for i := 0; i < 20; i++ {
		dgs = append(dgs, fakeDgram{data: frame(t, codec.TypeData, 1, uint64(i+1), "x"), from: addr(1)})
	}
	c.feed <- dgs
	// The fake feeds in batches of 4; feeding an empty marker batch waits
	// until the receive loop consumed everything before it.
	c.feed <- []fakeDgram{{data: []byte("XX"), from: addr(1)}}
	c.feed <- []fakeDgram{{data: []byte("XX"), from: addr(1)}}
	close(release)
	e.Close()
	st := e.Stats()
	if st.DropRingFull != 20-4 {
		t.Errorf("DropRingFull = %d, want 16", st.DropRingFull)
	}
}

type blockingHandler struct {
	entered chan struct{}
	release chan struct{}
}

func (h *blockingHandler) HandleBatch(s *Shard, batch []Inbound) {
	select {
	case h.entered <- struct{}{}:
	default:
	}
	<-h.release
}

// TestGRORuns checks that consecutive GRO segments bound for one shard
// travel as one ring item, that a bad segment splits the run, and that the
// shard delivers every frame of every segment in order.
func TestGRORuns(t *testing.T) {
	h := newRecordHandler(-1)
	e, err := New(newFakeConn(conn.Caps{GRO: true}), Config{Shards: 1, PoolBuffers: 256, Logger: quiet}, h)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var super []byte
	seg := 0
	for i := 0; i < 10; i++ {
		// Two frames per segment: 2 x 40 bytes.
		d := append(frame(t, codec.TypeData, 1, uint64(2*i), "012345"), frame(t, codec.TypeData, 1, uint64(2*i+1), "012345")...)
		if i == 4 {
			d[0] = 'X' // bad magic: segment 4 is dropped
		}
		seg = len(d)
		super = append(super, d...)
	}
	b := e.pool.Get()
	m := conn.Message{N: copy(b.Data(), super), Addr: addr(3), SegSize: seg}
	e.routeMessage(b, &m)
	e.publishRx() // the receive loop publishes its tallies per batch
	s := e.shards[0]
	if n := s.in.Len(); n != 2 {
		t.Fatalf("%d ring items, want 2 runs (segments 0-3 and 5-9)", n)
	}
	if b.Refs() != 2 {
		t.Fatalf("buffer refs %d, want one per run", b.Refs())
	}
	n := s.in.PopBatch(s.items)
	s.deliver(s.items[:n])
	got := h.get()
	if len(got) != 18 {
		t.Fatalf("%d frames delivered, want 18", len(got))
	}
	for i, r := range got {
		want := uint64(i)
		if i >= 8 {
			want += 2 // segment 4 (frames 8, 9) dropped
		}
		if r.hdr.Sequence != want {
			t.Fatalf("frame %d: seq %d, want %d", i, r.hdr.Sequence, want)
		}
	}
	if st := e.Stats(); st.RxDatagrams != 10 || st.DropBadMagic != 1 || st.RxGRO != 1 {
		t.Errorf("stats %+v", st)
	}
	if e.pool.Available() != e.pool.Cap() {
		t.Errorf("buffer not released: %d/%d", e.pool.Available(), e.pool.Cap())
	}
}
