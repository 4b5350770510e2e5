package session

import (
	"net/netip"
	"testing"
	"time"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/engine"
	"github.com/sttgo/stt/engine/conn"
	"github.com/sttgo/stt/engine/conn/conntest"
	"github.com/sttgo/stt/handshake"
	"github.com/sttgo/stt/suite"
)

// fakeClock is a manually advanced clock.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

// side is one node with an established session to the other side, built
// from hand-made keys (no handshake) over a real engine that is never
// started: the test drives its shard by hand (no goroutines), and frames
// travel through the engine's output and an in-memory network.
type side struct {
	n    *Node
	sh   *shard
	ep   *conntest.Endpoint
	s    *sessionState
	addr netip.AddrPort
	nw   *conntest.Network

	msgs  []conn.Message // ReadBatch's messages, reused
	bufs  [][]byte       // the inbox's buffers, reused
	inbox [][]byte       // datagrams taken from ep and not yet handled
}

func newSides(t testing.TB, clk *fakeClock, mod func(*Config)) (a, b *side) {
	t.Helper()
	nw := conntest.NewNetwork(conntest.Config{})
	t.Cleanup(func() { nw.Close() })
	mk := func(addr string, initiator bool, local, remote codec.SessionID, send, recvS [32]byte, peer netip.AddrPort) *side {
		cfg := Config{Seed: []byte("0123456789abcdef"), NodeKey: testNodeKey(t), Suites: []uint8{suite.AES256GCM}, Now: clk.now, SendBuffers: 16}
		if mod != nil {
			mod(&cfg)
		}
		n, err := NewNode(cfg, 1)
		if err != nil {
			t.Fatal(err)
		}
		ep, err := nw.Listen(netip.MustParseAddrPort(addr))
		if err != nil {
			t.Fatal(err)
		}
		e, err := engine.New(ep, engine.Config{Shards: 1, BatchSize: 16, PoolBuffers: 64}, n)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		if err := n.Attach(e); err != nil {
			t.Fatal(err)
		}
		sd := &side{n: n, sh: n.shards[0], ep: ep, addr: ep.LocalAddr(), nw: nw, msgs: make([]conn.Message, 64)}
		ss := sd.sh.newSession(peer)
		k := handshake.Keys{Peer: peer, LocalSessionID: local, RemoteSessionID: remote, Suite: suite.AES256GCM,
			Initiator: initiator, SendSecret: send, RecvSecret: recvS}
		if err := sd.sh.establish(ss, &k, clk.now()); err != nil {
			t.Fatal(err)
		}
		sd.s = ss
		return sd
	}
	var i2r, r2i [32]byte
	i2r[0], r2i[0] = 1, 2
	sa, sb := codec.SessionID{1}, codec.SessionID{2}
	aAddr, bAddr := netip.MustParseAddrPort("10.0.0.1:1"), netip.MustParseAddrPort("10.0.0.2:2")
	a = mk("10.0.0.1:1", true, sa, sb, i2r, r2i, bAddr)
	b = mk("10.0.0.2:2", false, sb, sa, r2i, i2r, aAddr)
	return a, b
}

// take flushes from's output onto the network and moves the datagrams that
// reached to into to's inbox. It does not allocate once the inbox's buffers
// exist.
func take(from, to *side) {
	from.sh.out.Flush()
	for {
		q := min(to.ep.Stats().Queued, len(to.msgs))
		if q == 0 {
			return
		}
		for i := range q {
			k := len(to.inbox) + i
			if k == len(to.bufs) {
				to.bufs = append(to.bufs, make([]byte, maxTestDatagram))
			}
			to.msgs[i] = conn.Message{Buf: to.bufs[k]}
		}
		n, err := to.ep.ReadBatch(to.msgs[:q])
		if err != nil {
			panic(err)
		}
		for _, m := range to.msgs[:n] {
			to.inbox = append(to.inbox, m.Buf[:m.N])
		}
	}
}

// maxTestDatagram bounds the datagrams the tests carry (the MTU here).
const maxTestDatagram = 4096

// frames calls fn with every frame in to's inbox, in order.
func (to *side) frames(t testing.TB, fn func(f *codec.Frame)) int {
	k := 0
	for _, b := range to.inbox {
		for len(b) > 0 {
			var f codec.Frame
			m, err := codec.Decode(b, &f)
			if err != nil {
				t.Fatal(err)
			}
			fn(&f)
			k++
			b = b[m:]
		}
	}
	return k
}

// discard flushes from's output and forgets what reached to, without
// decoding it (allocation tests use it).
func discard(from, to *side) {
	take(from, to)
	to.clearInbox()
}

// clearInbox forgets the datagrams in the inbox (keeping their buffers).
func (to *side) clearInbox() { to.inbox = to.inbox[:0] }

// deliver hands every frame from sent so far to to's shard and returns how
// many there were.
func deliver(t testing.TB, from, to *side, now time.Time) int {
	t.Helper()
	take(from, to)
	k := to.frames(t, func(f *codec.Frame) { to.sh.receive(f, from.addr, now) })
	to.clearInbox()
	return k
}

// lose drops every frame from sent so far to to (the network lost them)
// and returns how many there were.
func lose(t testing.TB, from, to *side) int {
	t.Helper()
	take(from, to)
	k := to.frames(t, func(*codec.Frame) {})
	to.clearInbox()
	return k
}

func pop(s *sessionState) (string, bool) {
	buf := make([]byte, 2048)
	n, _, _, ok := s.q.pop(buf)
	return string(buf[:n]), ok
}
