package session

import (
	"net/netip"
	"testing"
	"time"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/engine/conn"
)

// listener returns a bare endpoint on the sides' network at addr, as a
// side with no node (to capture what is sent there).
func listener(t *testing.T, on *side, addr string) *side {
	ep, err := on.nw.Listen(netip.MustParseAddrPort(addr))
	if err != nil {
		t.Fatal(err)
	}
	return &side{ep: ep, addr: ep.LocalAddr(), msgs: make([]conn.Message, 64)}
}

// TestPathValidationMovesOnlyOnResponse: a frame from a new address is
// delivered but the session stays; it challenges the new address; the
// peer's answer, arriving from the new address, moves the session.
func TestPathValidationMovesOnlyOnResponse(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	a, b := newSides(t, clk, nil)
	nat := listener(t, b, "10.0.0.9:9") // a's new public address
	a.sh.sealSend(a.s, codec.TypeData, 1, []byte("from the new address"), clk.t)
	take(a, b)
	b.frames(t, func(f *codec.Frame) { b.sh.receive(f, nat.addr, clk.t) })
	b.clearInbox()
	if m, ok := pop(b.s); !ok || m != "from the new address" {
		t.Fatalf("not delivered: %q", m)
	}
	if b.s.RemoteAddr() != a.addr || b.s.stats.PathChallenges.Load() != 1 {
		t.Fatalf("remote %v, %d challenges", b.s.RemoteAddr(), b.s.stats.PathChallenges.Load())
	}
	// The challenge went to the new address; the NAT forwards it to a.
	take(b, nat)
	if n := nat.frames(t, func(f *codec.Frame) { a.sh.receive(f, b.addr, clk.t) }); n != 1 {
		t.Fatalf("%d frames reached the new address", n)
	}
	nat.clearInbox()
	if a.s.stats.PathResponses.Load() != 1 {
		t.Fatal("a did not answer")
	}
	// a's answer leaves through the NAT: b sees it from the new address.
	take(a, b)
	b.frames(t, func(f *codec.Frame) { b.sh.receive(f, nat.addr, clk.t) })
	b.clearInbox()
	if b.s.RemoteAddr() != nat.addr || b.s.stats.Migrations.Load() != 1 {
		t.Fatalf("remote %v after the response (%d migrations)", b.s.RemoteAddr(), b.s.stats.Migrations.Load())
	}
}

// TestPathChallengeFromElsewhereIgnored: a PATH_CHALLENGE that arrives
// from an address other than the peer's is not answered (an injector
// cannot get the other side to answer the challenge it received).
func TestPathChallengeFromElsewhereIgnored(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	a, b := newSides(t, clk, nil)
	d := codec.PathData{1, 2, 3}
	b.sh.sealSend(b.s, codec.TypeControl, 0, codec.AppendPathChallenge(nil, &d), clk.t)
	take(b, a)
	a.frames(t, func(f *codec.Frame) { a.sh.receive(f, netip.MustParseAddrPort("10.0.0.7:7"), clk.t) })
	a.clearInbox()
	if a.s.stats.PathResponses.Load() != 0 || a.s.stats.PathRefused.Load() != 1 {
		t.Fatalf("responses %d refused %d", a.s.stats.PathResponses.Load(), a.s.stats.PathRefused.Load())
	}
}

// TestPathAmplificationAndGiveUp: an address that sent one small frame
// gets at most three times its bytes back, in at most three challenges;
// then it is ignored (no more bytes) for the hold period, and the session
// never moves.
func TestPathAmplificationAndGiveUp(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	a, b := newSides(t, clk, nil)
	inj := listener(t, b, "10.0.0.66:66")
	a.sh.sealSend(a.s, codec.TypeData, 1, []byte("x"), clk.t)
	take(a, b)
	var in int
	b.frames(t, func(f *codec.Frame) {
		in += f.EncodedLen()
		b.sh.receive(f, inj.addr, clk.t)
	})
	b.clearInbox()
	out := 0
	count := func() {
		take(b, inj)
		for _, d := range inj.inbox {
			out += len(d)
		}
		inj.clearInbox()
	}
	for range 80 { // 20 s of timers, past the give-up and the 10 s hold
		clk.t = clk.t.Add(250 * time.Millisecond)
		b.sh.runTimers(clk.t)
		count()
	}
	st := &b.s.stats
	t.Logf("received %d bytes from the address, sent it %d in %d challenges; amplification-limited %d, failures %d",
		in, out, st.PathChallenges.Load(), st.PathAmplificationLimited.Load(), st.PathFailures.Load())
	if out == 0 || out > pathAmplification*in {
		t.Fatalf("sent %d bytes for %d received", out, in)
	}
	if st.PathChallenges.Load() > pathChallengeTries || st.PathFailures.Load() != 1 {
		t.Fatalf("challenges %d failures %d", st.PathChallenges.Load(), st.PathFailures.Load())
	}
	if b.s.RemoteAddr() != a.addr || st.Migrations.Load() != 0 {
		t.Fatal("moved")
	}
	// After the hold, frames from the address start a new (bounded) probe.
	for i := range b.s.paths {
		if b.s.paths[i].addr.IsValid() {
			t.Fatalf("slot %d still held after the hold period: %+v", i, b.s.paths[i])
		}
	}
}

// TestPathCandidatesBounded: more new addresses than slots: the extra ones
// are refused (counted), nothing grows.
func TestPathCandidatesBounded(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	a, b := newSides(t, clk, nil)
	for i := range maxPathProbes + 3 {
		a.sh.sealSend(a.s, codec.TypeData, 1, make([]byte, 200), clk.t)
		take(a, b)
		from := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, 0, byte(i + 1)}), 5)
		b.frames(t, func(f *codec.Frame) { b.sh.receive(f, from, clk.t) })
		b.clearInbox()
	}
	if r := b.s.stats.PathRefused.Load(); r != 3 {
		t.Fatalf("refused %d, want 3", r)
	}
	if c := b.s.stats.PathChallenges.Load(); c != maxPathProbes {
		t.Fatalf("challenges %d, want %d", c, maxPathProbes)
	}
}

// TestAllocsValidationPath: receiving frames from an address under
// validation (challenge sent, waiting) allocates nothing.
func TestAllocsValidationPath(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	a, b := newSides(t, clk, func(c *Config) { c.RecvQueue = 16 })
	inj := netip.MustParseAddrPort("10.0.0.66:66")
	const n = 300
	p := make([]byte, 1000)
	for range n {
		a.sh.sealSend(a.s, codec.TypeData, 1, p, clk.t)
	}
	take(a, b)
	frames := make([]codec.Frame, 0, n)
	b.frames(t, func(f *codec.Frame) { frames = append(frames, *f) })
	buf := make([]byte, 2048)
	i := 0
	step := func() {
		b.sh.receive(&frames[i], inj, clk.t)
		b.s.q.pop(buf)
		i++
	}
	for range 20 {
		step()
	}
	if b.s.stats.PathChallenges.Load() != 1 {
		t.Fatalf("%d challenges", b.s.stats.PathChallenges.Load())
	}
	if allocs := testing.AllocsPerRun(200, step); allocs != 0 {
		t.Fatalf("validation path: %v allocs per frame", allocs)
	}
}
