package session

import (
	"net/netip"
	"testing"
	"time"

	"github.com/sttgo/stt/codec"
)

// TestResetTokenDerivation: the token depends only on the seed and the
// session id, so a node restarted with the same seed computes the same one,
// and another seed or another id gives another.
func TestResetTokenDerivation(t *testing.T) {
	mk := func(seed string) *Node {
		n, err := NewNode(Config{Seed: []byte(seed), NodeKey: testNodeKey(t), Suites: []uint8{1}}, 1)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	n1, n2, other := mk("0123456789abcdef"), mk("0123456789abcdef"), mk("fedcba9876543210")
	id := codec.SessionID{1, 2, 3, 4, 5, 6, 7, 8}
	if n1.resetToken(id) != n2.resetToken(id) {
		t.Fatal("same seed and id, different tokens")
	}
	if n1.resetToken(id) == other.resetToken(id) || n1.resetToken(id) == n1.resetToken(codec.SessionID{9}) {
		t.Fatal("token does not depend on the seed and the id")
	}
}

// unknownFrame is a frame of size bytes for a session id nobody has.
func unknownFrame(size int) *codec.Frame {
	f := &codec.Frame{Header: codec.Header{Type: codec.TypeStream, SessionID: codec.SessionID{0xEE}, Sequence: 9}}
	f.Payload = make([]byte, size-f.EncodedLen())
	return f
}

// TestResetAnswersAndBounds: a frame for an unknown session longer than a
// reset gets one, no larger than the frame and carrying the id's token;
// a short one gets none; a burst is rate-limited (counted); an address we
// are dialing gets none.
func TestResetAnswersAndBounds(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	a, b := newSides(t, clk, nil)
	n := b.n
	b.sh.receive(unknownFrame(codec.MaxStatelessResetLen), a.addr, clk.t)
	if n.stats.ResetsSent.Load() != 0 || n.stats.DropUnknownSession.Load() != 1 {
		t.Fatal("a frame no longer than a reset was answered")
	}
	f := unknownFrame(1200)
	b.sh.receive(f, a.addr, clk.t)
	if n.stats.ResetsSent.Load() != 1 {
		t.Fatal("no reset")
	}
	take(b, a)
	if len(a.inbox) != 1 {
		t.Fatalf("%d datagrams", len(a.inbox))
	}
	d := a.inbox[0]
	var rf codec.Frame
	var tok codec.ResetToken
	if k, err := codec.Decode(d, &rf); err != nil || k != len(d) || len(d) > codec.MaxStatelessResetLen || len(d) < codec.MinStatelessResetLen {
		t.Fatalf("reset of %d bytes: %v", len(d), err)
	}
	if err := codec.StatelessResetToken(&rf, &tok); err != nil || tok != n.resetToken(f.SessionID) {
		t.Fatalf("token % x, %v", tok, err)
	}
	a.clearInbox()
	for range 3 * resetBurst {
		b.sh.receive(f, a.addr, clk.t)
	}
	if s, l := n.stats.ResetsSent.Load(), n.stats.ResetsRateLimited.Load(); s != resetBurst || l != 2*resetBurst+1 {
		t.Fatalf("sent %d, rate-limited %d", s, l)
	}
	clk.t = clk.t.Add(time.Second) // the bucket refills
	b.sh.pending[netip.MustParseAddrPort("10.0.0.5:5")] = b.s
	b.sh.receive(f, netip.MustParseAddrPort("10.0.0.5:5"), clk.t)
	if n.stats.ResetsSent.Load() != resetBurst {
		t.Fatal("answered an address with a dial of ours in progress")
	}
	delete(b.sh.pending, netip.MustParseAddrPort("10.0.0.5:5"))
	b.sh.receive(f, a.addr, clk.t)
	if n.stats.ResetsSent.Load() != resetBurst+1 {
		t.Fatal("bucket did not refill")
	}
	// A frame carrying the id a chose for the session (one b sent, sent
	// back to b): answering would hand out the token of b's own session.
	own := unknownFrame(1200)
	own.SessionID = b.s.RemoteID()
	b.sh.receive(own, netip.MustParseAddrPort("10.0.0.6:6"), clk.t)
	if n.stats.ResetsSent.Load() != resetBurst+1 || n.stats.ResetsRefused.Load() != 1 {
		t.Fatal("answered a frame with its own session's peer id: a reset oracle")
	}
}

// TestResetClosesOnlyFromPeer: a valid reset closes the session only when
// it comes from the session's peer address.
func TestResetClosesOnlyFromPeer(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	a, b := newSides(t, clk, nil)
	// b "restarts": it forgets the session and answers a's next frame.
	delete(b.sh.sessions, b.s.LocalID())
	a.sh.sealSend(a.s, codec.TypeData, 1, make([]byte, 500), clk.t)
	deliver(t, a, b, clk.t)
	take(b, a)
	if len(a.inbox) != 1 {
		t.Fatalf("%d resets", len(a.inbox))
	}
	a.frames(t, func(f *codec.Frame) { a.sh.receive(f, netip.MustParseAddrPort("10.0.0.77:7"), clk.t) })
	if a.s.State() != Established || a.n.stats.ResetsReceived.Load() != 0 {
		t.Fatal("a reset from another address closed the session")
	}
	a.frames(t, func(f *codec.Frame) { a.sh.receive(f, b.addr, clk.t) })
	if a.s.State() != Closed || a.n.stats.ResetsReceived.Load() != 1 {
		t.Fatalf("state %v after the reset", a.s.State())
	}
	if ce, ok := a.s.Err().(*CloseError); !ok || ce.Code != codec.CodeStatelessReset {
		t.Fatalf("error %v", a.s.Err())
	}
	if len(a.n.resets.m) != 0 {
		t.Fatal("token table keeps the closed session")
	}
}
