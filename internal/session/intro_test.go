package session

import (
	"net/netip"
	"testing"
	"time"

	"github.com/sttgo/stt/codec"
)

// TestIntroForged: introduction messages that are not answers to a request
// of this node and do not come over a session marked as an introducer are
// ignored and counted, as is an introduction to the node itself; nothing
// is dialed. A node that is not a rendezvous refuses requests (reason 2),
// and malformed introduction bodies drop the control frame.
func TestIntroForged(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	a, b := newSides(t, clk, nil)
	send := func(sub uint8, m *codec.Intro) {
		t.Helper()
		msg, err := codec.AppendIntro(nil, sub, m)
		if err != nil {
			t.Fatal(err)
		}
		a.sh.sendControl(a.s, msg, clk.t)
		if deliver(t, a, b, clk.t) != 1 {
			t.Fatal("frame not delivered")
		}
	}
	forged := &codec.Intro{RequestID: 7, NodeID: [32]byte{9}}
	forged.Add(netip.MustParseAddrPort("192.0.2.66:4000"))
	st := b.n.IntroStats()

	// Not an introducer, no request: ignored.
	send(codec.ControlIntroduction, forged)
	send(codec.ControlIntroRefused, &codec.Intro{RequestID: 7, Reason: codec.IntroNoSession})
	if st.Ignored.Load() != 2 || st.IntroductionsIn.Load() != 0 || len(b.n.intro.waiters) != 0 || b.n.intro.inflight != 0 {
		t.Fatalf("ignored %d, in %d, waiters %d", st.Ignored.Load(), st.IntroductionsIn.Load(), len(b.n.intro.waiters))
	}
	// Marked, but introducing b to itself: ignored.
	b.n.UseIntroducer(b.s.Session)
	self := *forged
	self.NodeID = b.n.cfg.NodeKey.ID()
	send(codec.ControlIntroduction, &self)
	if st.Ignored.Load() != 3 || len(b.n.intro.waiters) != 0 {
		t.Fatalf("self-introduction: ignored %d, waiters %d", st.Ignored.Load(), len(b.n.intro.waiters))
	}
	// The mark goes with the session.
	b.sh.closeLocal(b.s, codec.CodeNoError, "done", clk.t, false)
	if _, ok := b.n.intro.introducers[b.s.Session]; ok {
		t.Fatal("a closed session is still marked as an introducer")
	}

	// A request to a node that is not a rendezvous is refused.
	a2, b2 := newSides(t, clk, nil)
	msg, _ := codec.AppendIntro(nil, codec.ControlIntroRequest, &codec.Intro{RequestID: 5, NodeID: [32]byte{1}})
	a2.sh.sendControl(a2.s, msg, clk.t)
	deliver(t, a2, b2, clk.t)
	if b2.n.IntroStats().RefusedNotRendezvous.Load() != 1 {
		t.Fatal("no refusal")
	}
	var got codec.Intro
	refused := false
	take(b2, a2)
	a2.frames(t, func(f *codec.Frame) {
		if f.Header.Type != codec.TypeControl {
			return
		}
		p, err := a2.s.opener.Open(nil, f)
		if err != nil || len(p) == 0 || p[0] != codec.ControlIntroRefused {
			return
		}
		if _, err := codec.ParseIntro(p[0], p[1:], &got); err == nil && got.RequestID == 5 && got.Reason == codec.IntroNotRendezvous {
			refused = true
		}
	})
	if !refused {
		t.Fatal("no INTRO_REFUSED(2) with the request id came back")
	}

	// A malformed body (nine candidates) drops the frame.
	bad, _ := codec.AppendIntro(nil, codec.ControlIntroduction, forged)
	bad[1+36] = 9
	a2.sh.sendControl(a2.s, bad, clk.t)
	deliver(t, a2, b2, clk.t)
	if b2.s.stats.DropBadControl.Load() != 1 {
		t.Fatalf("drop_bad_control %d", b2.s.stats.DropBadControl.Load())
	}
}

// TestRelayedToDial: a node without relayed candidates of its own dials
// the peer's; of two nodes that both have them, only the lower node id
// dials, so both agree on one relayed session.
func TestRelayedToDial(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	has := false
	a, b := newSides(t, clk, func(c *Config) { c.HasRelay = func() bool { return has } })
	aid, bid := a.n.cfg.NodeKey.ID(), b.n.cfg.NodeKey.ID()
	if !a.n.relayedToDial(bid) || !b.n.relayedToDial(aid) {
		t.Fatal("a node without a relay must dial the peer's relayed candidates")
	}
	has = true
	if a.n.relayedToDial(bid) == b.n.relayedToDial(aid) {
		t.Fatalf("both with relays: a dials %v, b dials %v; exactly one must", a.n.relayedToDial(bid), b.n.relayedToDial(aid))
	}
	lower := a
	if string(bid[:]) < string(aid[:]) {
		lower = b
	}
	peer := aid
	if lower == a {
		peer = bid
	}
	if !lower.n.relayedToDial(peer) {
		t.Fatal("the lower node id must be the one that dials")
	}
}
