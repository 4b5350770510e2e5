package session

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/handshake"
	"github.com/sttgo/stt/suite"
)

// fakeOut records encoded frames (into reused buffers) instead of sending.
type fakeOut struct {
	bufs [][]byte
	n    int
	to   []netip.AddrPort
}

func (o *fakeOut) Send(to netip.AddrPort, f *codec.Frame) error {
	if o.n == len(o.bufs) {
		o.bufs = append(o.bufs, make([]byte, 2048))
		o.to = append(o.to, netip.AddrPort{})
	}
	k, err := f.Encode(o.bufs[o.n])
	if err != nil {
		return err
	}
	o.bufs[o.n] = o.bufs[o.n][:k]
	o.to[o.n] = to
	o.n++
	return nil
}

func (o *fakeOut) Reserve(to netip.AddrPort, _ *codec.Header, n int) ([]byte, error) {
	if o.n == len(o.bufs) {
		o.bufs = append(o.bufs, make([]byte, 2048))
		o.to = append(o.to, netip.AddrPort{})
	}
	if n > cap(o.bufs[o.n]) {
		return nil, errors.New("fakeOut: frame larger than its buffer")
	}
	o.bufs[o.n] = o.bufs[o.n][:n]
	o.to[o.n] = to
	o.n++
	return o.bufs[o.n-1], nil
}

func (o *fakeOut) reset() {
	for i := range o.n {
		o.bufs[i] = o.bufs[i][:cap(o.bufs[i])]
	}
	o.n = 0
}

// fakeClock is a manually advanced clock.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

// side is one node's shard with an established session to the other side,
// built from hand-made keys (no handshake, no engine, no goroutines).
type side struct {
	n    *Node
	sh   *shardState
	out  *fakeOut
	s    *Session
	addr netip.AddrPort
}

func newSides(t testing.TB, clk *fakeClock, mod func(*Config)) (a, b *side) {
	t.Helper()
	mk := func(addr string, initiator bool, local, remote codec.SessionID, send, recvS [32]byte, peer netip.AddrPort) *side {
		cfg := Config{Seed: []byte("0123456789abcdef"), Suites: []uint8{suite.AES256GCM}, Now: clk.now, SendBuffers: 16}
		if mod != nil {
			mod(&cfg)
		}
		n, err := NewNode(cfg, 1)
		if err != nil {
			t.Fatal(err)
		}
		sd := &side{n: n, sh: n.shards[0], out: &fakeOut{}, addr: netip.MustParseAddrPort(addr)}
		sd.sh.out = sd.out
		s := sd.sh.newSession(peer)
		k := handshake.Keys{Peer: peer, LocalSessionID: local, RemoteSessionID: remote, Suite: suite.AES256GCM,
			Initiator: initiator, SendSecret: send, RecvSecret: recvS}
		if err := sd.sh.establish(s, &k, clk.now()); err != nil {
			t.Fatal(err)
		}
		sd.s = s
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

// deliver hands every frame from's output produced so far to to's shard.
func deliver(t testing.TB, from, to *side, now time.Time) int {
	t.Helper()
	k := from.out.n
	for i := range k {
		b := from.out.bufs[i]
		for len(b) > 0 {
			var f codec.Frame
			m, err := codec.Decode(b, &f)
			if err != nil {
				t.Fatal(err)
			}
			to.sh.receive(&f, from.addr, now)
			b = b[m:]
		}
	}
	from.out.reset()
	return k
}

func pop(s *Session) (string, bool) {
	buf := make([]byte, 2048)
	n, _, ok := s.q.pop(buf)
	return string(buf[:n]), ok
}
