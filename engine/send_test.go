package engine

import (
	"errors"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/engine/bufpool"
	"github.com/sttgo/stt/engine/conn"
)

// sent is one datagram seen by the fake conn, with its decoded frames.
type sent struct {
	to     netip.AddrPort
	size   int
	frames []codec.Frame
}

// waitWrites polls the fake conn until it has recorded frames frames
// (polling only detects completion; no timing is asserted) and returns the
// datagrams, GSO messages split into their segments.
func waitWrites(t *testing.T, c *fakeConn, frames int) ([]sent, [][]conn.Message) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var out []sent
		n := 0
		batches := c.recorded()
		for _, b := range batches {
			for _, m := range b {
				seg := m.SegSize
				if seg == 0 {
					seg = m.N
				}
				for off := 0; off < m.N; off += seg {
					d := m.Buf[off:min(off+seg, m.N)]
					s := sent{to: m.Addr, size: len(d)}
					for len(d) > 0 {
						var f codec.Frame
						k, err := codec.Decode(d, &f)
						if err != nil {
							t.Fatalf("sent datagram does not decode: %v", err)
						}
						s.frames = append(s.frames, f)
						d = d[k:]
					}
					n += len(s.frames)
					out = append(out, s)
				}
			}
		}
		if n >= frames {
			if n > frames {
				t.Fatalf("%d frames sent, want %d", n, frames)
			}
			return out, batches
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d frames sent (hang)", n, frames)
		}
		time.Sleep(time.Millisecond)
	}
}

func mkFrame(typ uint8, sid uint64, seq uint64, payloadLen int) *codec.Frame {
	f := &codec.Frame{Header: codec.Header{Type: typ, Sequence: seq}, Payload: []byte(strings.Repeat("p", payloadLen))}
	putSID(&f.SessionID, sid)
	return f
}

// TestCoalescing queues frames before Start so that one shard iteration
// sees them all, and checks that frames to the same peer and session share
// datagrams up to the MTU, in order, and that keys never mix.
func TestCoalescing(t *testing.T) {
	c := newFakeConn(conn.Caps{})
	e, err := New(c, Config{Shards: 1, BatchSize: 64, Logger: quiet}, newCountHandler())
	if err != nil {
		t.Fatal(err)
	}
	a, b := addr(1), addr(2)
	type q struct {
		to  netip.AddrPort
		typ uint8
		sid uint64
		n   int
	}
	plan := []q{{a, codec.TypeData, 1, 30}, {b, codec.TypeData, 1, 5}, {a, codec.TypeHandshake, 9, 3}, {a, codec.TypeData, 2, 4}}
	fsize := mkFrame(codec.TypeData, 1, 0, 60).EncodedLen()
	total := 0
	for round := 0; round < 30; round++ { // interleave keys
		for _, p := range plan {
			if round < p.n {
				if err := e.Send(p.to, mkFrame(p.typ, p.sid, uint64(round), 60)); err != nil {
					t.Fatal(err)
				}
				total++
			}
		}
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	dgs, _ := waitWrites(t, c, total)
	type key struct {
		to  netip.AddrPort
		hs  bool
		sid codec.SessionID
	}
	perKey := map[key]int{}
	nextSeq := map[key]uint64{}
	for _, d := range dgs {
		if d.size > 1200 {
			t.Errorf("datagram of %d bytes exceeds the MTU", d.size)
		}
		f0 := d.frames[0]
		k := key{to: d.to, hs: f0.Type == codec.TypeHandshake}
		if !k.hs {
			k.sid = f0.SessionID
		}
		perKey[k]++
		for _, f := range d.frames {
			if (f.Type == codec.TypeHandshake) != k.hs || (!k.hs && f.SessionID != k.sid) {
				t.Errorf("datagram to %v mixes routing keys", d.to)
			}
			if f.Sequence != nextSeq[k] {
				t.Errorf("key %v: seq %d, want %d", k, f.Sequence, nextSeq[k])
			}
			nextSeq[k]++
		}
	}
	perDgram := 1200 / fsize
	for _, p := range plan {
		k := key{to: p.to, hs: p.typ == codec.TypeHandshake}
		if !k.hs {
			putSID(&k.sid, p.sid)
		}
		if want := (p.n + perDgram - 1) / perDgram; perKey[k] != want {
			t.Errorf("key %v: %d datagrams, want %d (%d frames of %d bytes)", k, perKey[k], want, p.n, fsize)
		}
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	st := e.Stats()
	if st.TxFrames != uint64(total) || st.TxDatagrams != uint64(len(dgs)) || st.TxGSOMessages != 0 {
		t.Errorf("stats %+v", st)
	}
	checkPools(t, e)
}

// TestGSOCombining checks that equal-size datagrams to one peer become one
// GSO Message only when the conn has GSO, bounded by MaxSegments.
func TestGSOCombining(t *testing.T) {
	for _, tc := range []struct {
		name   string
		caps   conn.Caps
		wantA  []int // SegSize of each message to peer A
		wantNA []int // N of each message to A
		wantB  []int
		wantNB []int
	}{
		{"noGSO", conn.Caps{}, []int{0, 0, 0, 0, 0}, []int{700, 700, 700, 700, 700}, []int{0, 0, 0}, []int{1000, 1000, 500}},
		{"GSO", conn.Caps{GSO: true, MaxSegments: 64}, []int{700}, []int{3500}, []int{1000}, []int{2500}},
		{"GSOmax2", conn.Caps{GSO: true, MaxSegments: 2}, []int{700, 700, 0}, []int{1400, 1400, 700}, []int{1000, 0}, []int{2000, 500}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newFakeConn(tc.caps)
			e, err := New(c, Config{Shards: 1, PoolBuffers: 128, Logger: quiet}, newCountHandler())
			if err != nil {
				t.Fatal(err)
			}
			a, b := addr(1), addr(2)
			f700 := mkFrame(codec.TypeData, 1, 0, 0)
			f700.Payload = make([]byte, 700-f700.EncodedLen()-1)
			for f700.EncodedLen() < 700 {
				f700.Payload = append(f700.Payload, 0)
			}
			f500 := mkFrame(codec.TypeData, 1, 0, 0)
			for f500.EncodedLen() < 500 {
				f500.Payload = append(f500.Payload, 0)
			}
			for i := 0; i < 5; i++ {
				if err := e.Send(a, f700); err != nil {
					t.Fatal(err)
				}
				if err := e.Send(b, f500); err != nil {
					t.Fatal(err)
				}
			}
			e.Start()
			_, batches := waitWrites(t, c, 10)
			var segA, nA, segB, nB []int
			for _, bt := range batches {
				for _, m := range bt {
					if m.Addr == a {
						segA, nA = append(segA, m.SegSize), append(nA, m.N)
					} else {
						segB, nB = append(segB, m.SegSize), append(nB, m.N)
					}
				}
			}
			if !equal(segA, tc.wantA) || !equal(nA, tc.wantNA) || !equal(segB, tc.wantB) || !equal(nB, tc.wantNB) {
				t.Errorf("A seg %v n %v, B seg %v n %v; want A %v %v, B %v %v", segA, nA, segB, nB, tc.wantA, tc.wantNA, tc.wantB, tc.wantNB)
			}
			e.Close()
			if st := e.Stats(); st.TxDatagrams != 8 {
				t.Errorf("TxDatagrams %d, want 8", st.TxDatagrams)
			}
		})
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestShardSendReplies has the handler answer every frame with Shard.Send:
// the replies of one batch are coalesced into few datagrams.
func TestShardSendReplies(t *testing.T) {
	c := newFakeConn(conn.Caps{})
	h := newCountHandler()
	h.reply = func(s *Shard, in *Inbound) {
		f := in.Frame
		f.Payload = []byte("pong")
		f.Metadata = nil
		if err := s.Send(in.From, &f); err != nil {
			t.Error(err)
		}
	}
	startEngine(t, c, Config{Shards: 2}, h)
	var dgram []byte
	for i := 0; i < 10; i++ {
		dgram = append(dgram, frame(t, codec.TypeData, 42, uint64(i), "ping")...)
	}
	c.feed <- []fakeDgram{{data: dgram, from: addr(7)}}
	dgs, _ := waitWrites(t, c, 10)
	if len(dgs) != 1 || dgs[0].to != addr(7) || len(dgs[0].frames) != 10 || string(dgs[0].frames[9].Payload) != "pong" {
		t.Fatalf("replies: %+v", dgs)
	}
	big := mkFrame(codec.TypeData, 1, 0, 1300)
	var serr error
	h.reply = func(s *Shard, in *Inbound) { serr = s.Send(in.From, big) }
	h.expect(1)
	c.feed <- []fakeDgram{{data: frame(t, codec.TypeData, 42, 0, "x"), from: addr(7)}}
	wait(t, h.ch)
	if !errors.Is(serr, ErrFrameTooLarge) {
		t.Errorf("oversized Shard.Send: %v", serr)
	}
}

// TestBackpressure fills the send ring (Engine.Send) and exhausts the main
// pool under Shard.Send.
func TestBackpressure(t *testing.T) {
	c := newFakeConn(conn.Caps{})
	e, err := New(c, Config{Shards: 1, BatchSize: 4, PoolBuffers: 8, SendRingSize: 4, Logger: quiet}, newCountHandler())
	if err != nil {
		t.Fatal(err)
	}
	f := mkFrame(codec.TypeData, 1, 0, 10)
	for i := 0; i < 4; i++ {
		if err := e.Send(addr(1), f); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	if err := e.Send(addr(1), f); !errors.Is(err, ErrBackpressure) {
		t.Fatalf("send with a full ring: %v", err)
	}
	if err := e.Send(addr(1), mkFrame(codec.TypeData, 1, 0, 1300)); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("oversized send: %v", err)
	}
	if st := e.Stats(); st.SendBackpressure != 1 {
		t.Errorf("SendBackpressure %d", st.SendBackpressure)
	}
	e.Close()
	checkPools(t, e)
	if err := e.Send(addr(1), f); !errors.Is(err, ErrClosed) {
		t.Fatalf("send after Close: %v", err)
	}

	// Shard.Send when every main-pool buffer is taken: the handler grabs
	// the free ones, so the shard cannot start a train even after flushing.
	c = newFakeConn(conn.Caps{})
	h := newCountHandler()
	var serr, serr2 error
	h.reply = func(s *Shard, in *Inbound) {
		var held []*bufpool.Buf
		for b := s.Engine().Pool().Get(); b != nil; b = s.Engine().Pool().Get() {
			held = append(held, b)
		}
		serr = s.Send(addr(9), f)
		held[0].Release()
		serr2 = s.Send(addr(9), f) // one buffer free again
		for _, b := range held[1:] {
			b.Release()
		}
	}
	e = startEngine(t, c, Config{Shards: 1, BatchSize: 4, PoolBuffers: 8}, h)
	h.expect(1)
	c.feed <- []fakeDgram{{data: frame(t, codec.TypeData, 1, 0, "x"), from: addr(1)}}
	wait(t, h.ch)
	if !errors.Is(serr, ErrBackpressure) || serr2 != nil {
		t.Errorf("Shard.Send with an exhausted pool: %v, then %v", serr, serr2)
	}
	if st := e.Stats(); st.SendBackpressure != 1 {
		t.Errorf("SendBackpressure %d", st.SendBackpressure)
	}
}

// TestCloseUnderLoad closes the engine while traffic flows both ways from
// several goroutines; run it under -race.
func TestCloseUnderLoad(t *testing.T) {
	c := newFakeConn(conn.Caps{GSO: true, MaxSegments: 16})
	c.onWrite = func([]conn.Message) {}
	h := newCountHandler()
	h.reply = func(s *Shard, in *Inbound) { s.Send(in.From, &in.Frame) }
	e, err := New(c, Config{Shards: 3, BatchSize: 8, PoolBuffers: 64, Logger: quiet}, h)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	if err := e.Start(); !errors.Is(err, ErrStarted) {
		t.Errorf("second Start: %v", err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := 0; g < 3; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			f := mkFrame(codec.TypeData, uint64(g), 0, 100)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				f.Sequence = uint64(i)
				switch err := e.Send(addr(uint16(g)), f); {
				case errors.Is(err, ErrClosed):
					return
				case err != nil:
					runtime.Gosched() // backpressure: let the shards run
				}
			}
		}(g)
	}
	var dgs []fakeDgram
	for i := 0; i < 50; i++ {
		dgs = append(dgs, fakeDgram{data: frame(t, codec.TypeData, uint64(i), 0, "data"), from: addr(uint16(i))})
	}
	rounds := 200
	if raceEnabled {
		rounds = 20
	}
	for r := 0; r < rounds; r++ {
		c.feed <- dgs
	}
	var cwg sync.WaitGroup
	for i := 0; i < 3; i++ { // concurrent, idempotent Close
		cwg.Add(1)
		go func() { defer cwg.Done(); e.Close() }()
	}
	cwg.Wait()
	close(stop)
	wg.Wait()
	checkPools(t, e)
	if err := e.Start(); !errors.Is(err, ErrClosed) {
		t.Errorf("Start after Close: %v", err)
	}
	if h.total.Load() == 0 {
		t.Error("no frames delivered")
	}
}

// TestCoalescingManyPeers interleaves frames to many peers (so keys collide
// in the shard's coalescing table) and checks each peer still gets exactly
// one datagram.
func TestCoalescingManyPeers(t *testing.T) {
	c := newFakeConn(conn.Caps{})
	e, err := New(c, Config{Shards: 1, BatchSize: 256, Logger: quiet}, newCountHandler())
	if err != nil {
		t.Fatal(err)
	}
	const peers, per = 60, 3
	for r := 0; r < per; r++ {
		for p := 0; p < peers; p++ {
			if err := e.Send(addr(uint16(100+p)), mkFrame(codec.TypeData, 5, uint64(r), 20)); err != nil {
				t.Fatal(err)
			}
		}
	}
	e.Start()
	dgs, _ := waitWrites(t, c, peers*per)
	if len(dgs) != peers {
		t.Errorf("%d datagrams for %d peers", len(dgs), peers)
	}
	for _, d := range dgs {
		if len(d.frames) != per {
			t.Errorf("peer %v: %d frames in a datagram, want %d", d.to, len(d.frames), per)
		}
	}
	e.Close()
}

// TestSendWait checks that SendWait gives up when done closes, and that
// several blocked senders all get through once the shard drains (no lost
// wake-up), with a pool much smaller than the traffic.
func TestSendWait(t *testing.T) {
	c := newFakeConn(conn.Caps{})
	bc := newByteCounter(c)
	e, err := New(c, Config{Shards: 1, BatchSize: 4, PoolBuffers: 8, SendRingSize: 4, Logger: quiet}, newCountHandler())
	if err != nil {
		t.Fatal(err)
	}
	f := mkFrame(codec.TypeData, 1, 0, 100)
	for e.Send(addr(1), f) == nil {
	}
	closed := make(chan struct{})
	close(closed)
	if err := e.SendWait(addr(1), f, closed); !errors.Is(err, ErrBackpressure) {
		t.Fatalf("SendWait with closed done: %v", err)
	}
	const senders = 4
	per := 2000
	if raceEnabled {
		per = 200
	}
	queued := 4 // what the loop above queued (ring of 4)
	bc.expect(int64((queued + senders*per) * f.EncodedLen()))
	var wg sync.WaitGroup
	for g := 0; g < senders; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				if err := e.SendWait(addr(uint16(g)), f, nil); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	wait(t, bc.ch)
	e.Close()
	if err := e.SendWait(addr(1), f, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("SendWait after Close: %v", err)
	}
}
