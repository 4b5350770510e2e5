package stt

import (
	"bytes"
	"errors"
	"io"
	"sync/atomic"
	"testing"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/engine/conn"
	"github.com/sttgo/stt/handshake"
)

// TestNodeSeedGivesStableID: the same node seed gives the same node id on
// every Listen, another seed another id, and a short one a clear error.
func TestNodeSeedGivesStableID(t *testing.T) {
	tn := newTestNet(t, 1401)
	seed := bytes.Repeat([]byte{0x42}, 32)
	a, _ := tn.node(func(c *Config) { c.NodeSeed = seed })
	b, _ := tn.node(func(c *Config) { c.NodeSeed = append([]byte(nil), seed...) })
	c, _ := tn.node(func(c *Config) { c.NodeSeed = bytes.Repeat([]byte{0x43}, 32) })
	d, _ := tn.node(nil)
	if a.NodeID() != b.NodeID() || a.NodeID() == c.NodeID() || d.NodeID() == a.NodeID() {
		t.Fatalf("ids: %v %v %v %v", a.NodeID(), b.NodeID(), c.NodeID(), d.NodeID())
	}
	_, err := Listen(Config{Seed: testSeed, NodeSeed: make([]byte, 15), Conn: tn.endpoint()})
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("NodeSeed")) {
		t.Fatalf("short node seed: %v", err)
	}
}

// TestPeerNodeIDsProven: both ends see the id of the other's node key.
func TestPeerNodeIDsProven(t *testing.T) {
	tn := newTestNet(t, 1402)
	a, _ := tn.node(nil)
	b, _ := tn.node(nil)
	// Keep b's session open (acceptAll closes what it accepts, and that
	// close could beat the datagram below).
	acc := acceptOne(t, b)
	sa, err := a.DialPeer(ctxT(t, 10e9), b.Addr().String(), b.NodeID())
	if err != nil {
		t.Fatal(err)
	}
	if sa.PeerNodeID() != b.NodeID() {
		t.Fatalf("dialer sees %v, want %v", sa.PeerNodeID(), b.NodeID())
	}
	sb := <-acc
	if sb == nil || sb.PeerNodeID() != a.NodeID() {
		t.Fatal("the listener did not get the session with the dialer's id")
	}
	sendRetry(t, sa, 1, []byte("pinned"))
}

// TestImpersonatorCannotPassAsKnownID: a node holding the group seed but
// another node key, listening where the dialer expects a known node, fails
// the pinned Dial with ErrPeerIdentity, and never gets a session.
func TestImpersonatorCannotPassAsKnownID(t *testing.T) {
	tn := newTestNet(t, 1403)
	a, _ := tn.node(nil)
	known, _ := tn.node(nil)
	mallory, _ := tn.node(nil) // same Seed, its own node key
	_, err := a.DialPeer(ctxT(t, 10e9), mallory.Addr().String(), known.NodeID())
	if !errors.Is(err, ErrPeerIdentity) || !errors.Is(err, ErrHandshake) {
		t.Fatalf("pinned dial to an impersonator: %v", err)
	}
	eventuallyQuiet()
	if n := mallory.Stats().Sessions["sessions_opened"]; n != 0 {
		t.Fatalf("impersonator opened %d sessions", n)
	}
	if n := a.Stats().Handshake["handshake_init_wrong_peer"]; n != 1 {
		t.Fatalf("handshake_init_wrong_peer = %d", n)
	}
	if _, err := a.DialPeer(ctxT(t, 1e9), known.Addr().String(), NodeID{}); err == nil {
		t.Fatal("DialPeer accepted the zero id")
	}
}

// TestAllowListRefusesOtherNodes: a node whose allow-list holds only a's id
// serves a and refuses c (which holds the group seed): c's session ends at
// once with CodeNotAllowed, matching ErrPeerNotAllowed; a dialer whose own
// list lacks the responder fails its Dial.
func TestAllowListRefusesOtherNodes(t *testing.T) {
	tn := newTestNet(t, 1404)
	a, _ := tn.node(nil)
	c, _ := tn.node(nil)
	b, _ := tn.node(func(cfg *Config) { cfg.AllowPeers = []NodeID{a.NodeID()} })
	acceptKeep(t, b) // a's session must stay open for its datagram
	sa, err := a.DialAddrPort(ctxT(t, 10e9), b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	sendRetry(t, sa, 1, []byte("allowed"))
	sc, err := c.DialAddrPort(ctxT(t, 10e9), b.Addr())
	if err != nil {
		t.Fatal(err) // 1-RTT: the keys are ready before b sees c's id
	}
	<-sc.Done()
	err = sc.Err()
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Code != CodeNotAllowed || !ce.Remote || !errors.Is(err, ErrPeerNotAllowed) {
		t.Fatalf("refused session ended with %v", err)
	}
	if n := b.Stats().Handshake["handshake_peers_refused"]; n != 1 {
		t.Fatalf("handshake_peers_refused = %d", n)
	}
	// The dialer's own list.
	d, _ := tn.node(func(cfg *Config) { cfg.AllowPeers = []NodeID{a.NodeID()} })
	if _, err := d.DialAddrPort(ctxT(t, 10e9), c.Addr()); !errors.Is(err, ErrPeerNotAllowed) {
		t.Fatalf("dial to a node off the list: %v", err)
	}
}

// TestSameNodeSeedTwice: two nodes started with one node seed are one
// identity; a handshake between them fails with a message that says so.
func TestSameNodeSeedTwice(t *testing.T) {
	tn := newTestNet(t, 1405)
	seed := bytes.Repeat([]byte{7}, 32)
	a, _ := tn.node(func(c *Config) { c.NodeSeed = seed })
	b, _ := tn.node(func(c *Config) { c.NodeSeed = seed })
	_, err := a.DialAddrPort(ctxT(t, 10e9), b.Addr())
	if !errors.Is(err, handshake.ErrSameNode) || !bytes.Contains([]byte(err.Error()), []byte("node seed")) {
		t.Fatalf("dial between two copies of one node: %v", err)
	}
}

// TestFirstContactDataBeforeFinal: a first contact to a node that is not
// loaded gets no RETRY, and the dialer's data arrives although no FINAL
// (and nothing else from the responder) ever reaches the dialer: the
// dialer sent it one round trip after its HELLO.
func TestFirstContactDataBeforeFinal(t *testing.T) {
	tn := newTestNet(t, 1406)
	a, _ := tn.node(nil)
	b, hb := tn.node(nil)
	var afterResponse atomic.Bool
	hb.setHook(func(m *conn.Message) bool {
		var f codec.Frame
		if _, err := codec.Decode(m.Buf[:m.N], &f); err != nil {
			return false
		}
		if afterResponse.Load() {
			return false // FINAL, acknowledgments, everything
		}
		if typ, _ := codec.PeekHandshakeType(f.Payload); f.Type == codec.TypeHandshake && typ == codec.HandshakeResponse {
			afterResponse.Store(true)
		}
		return true
	})
	acc := acceptOne(t, b)
	sa, err := a.DialAddrPort(ctxT(t, 10e9), b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if err := sa.SendDatagram(1, []byte("one round trip")); err != nil {
		t.Fatal(err)
	}
	sb := <-acc
	if sb == nil {
		t.Fatal("no session accepted")
	}
	if p, _ := recv(t, sb); string(p) != "one round trip" {
		t.Fatalf("got %q", p)
	}
	st := b.Stats().Handshake
	if st["handshake_retries_sent"] != 0 || st["handshake_first_contact"] != 1 {
		t.Fatalf("first contact took a RETRY: %v", st)
	}
}

// TestCookieFirstWhenConfigured: CookieThreshold < 0 makes every first
// contact prove its address (a RETRY, one more round trip).
func TestCookieFirstWhenConfigured(t *testing.T) {
	tn := newTestNet(t, 1407)
	a, _ := tn.node(nil)
	b, _ := tn.node(func(c *Config) { c.CookieThreshold = -1 })
	sa, sb := pair(t, a, b)
	if st := b.Stats().Handshake; st["handshake_retries_sent"] != 1 || st["handshake_first_contact"] != 0 {
		t.Fatalf("stats %v", st)
	}
	sendRetry(t, sa, 1, []byte("two round trips"))
	if p, _ := recv(t, sb); string(p) != "two round trips" {
		t.Fatalf("got %q", p)
	}
}

// TestResumedSession: a second Dial to a node resumes with the ticket of
// the first (both sides report it), keeps the proven ids, and carries
// data; without tickets (TicketLifetime < 0) it does not resume.
func TestResumedSession(t *testing.T) {
	tn := newTestNet(t, 1408)
	a, _ := tn.node(nil)
	b, _ := tn.node(nil)
	sa, sb := pair(t, a, b)
	if sa.Resumed() || sb.Resumed() {
		t.Fatal("first contact resumed")
	}
	eventually(t, "ticket stored", func() bool { return a.Stats().Handshake["handshake_init_tickets_stored"] == 1 })
	sa.Close(CodeNoError, "")
	ra, rb := pair(t, a, b)
	if !ra.Resumed() || !rb.Resumed() {
		t.Fatalf("second dial not resumed: %v", a.Stats().Handshake)
	}
	if ra.PeerNodeID() != b.NodeID() || rb.PeerNodeID() != a.NodeID() {
		t.Fatal("resumed session lost the proven ids")
	}
	sendRetry(t, ra, 1, []byte("resumed"))
	if p, _ := recv(t, rb); string(p) != "resumed" {
		t.Fatalf("got %q", p)
	}
	if n := b.Stats().Handshake["handshake_resumed"]; n != 1 {
		t.Fatalf("handshake_resumed = %d", n)
	}

	c, _ := tn.node(func(cfg *Config) { cfg.TicketLifetime = -1 })
	d, _ := tn.node(nil)
	pair(t, c, d)
	eventuallyQuiet()
	sc, _ := pair(t, c, d)
	if sc.Resumed() || c.Stats().Handshake["handshake_init_resume_offered"] != 0 {
		t.Fatal("resumed without tickets")
	}
}

// TestDataOvertakesAuthProof: the dialer's first AUTH_PROOF is lost, so its
// stream frames (sent one round trip after the HELLO) reach the responder
// before any AUTH_PROOF does. The responder must neither answer them with
// a stateless reset (the session is about to exist) nor lose the data: the
// retransmitted AUTH_PROOF establishes the session and the stream delivers
// every byte.
func TestDataOvertakesAuthProof(t *testing.T) {
	tn := newTestNet(t, 1409)
	a, ha := tn.node(nil)
	b, _ := tn.node(nil)
	var lost atomic.Bool
	ha.setHook(func(m *conn.Message) bool {
		var f codec.Frame
		if _, err := codec.Decode(m.Buf[:m.N], &f); err == nil && f.Type == codec.TypeHandshake {
			if typ, _ := codec.PeekHandshakeType(f.Payload); typ == codec.HandshakeAuthProof && lost.CompareAndSwap(false, true) {
				return false
			}
		}
		return true
	})
	acc := acceptOne(t, b)
	sa, err := a.DialAddrPort(ctxT(t, 10e9), b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Repeat([]byte("overtaking "), 1000)
	go func() {
		st, err := sa.OpenStream(ctxT(t, 10e9))
		if err == nil {
			st.Write(want)
			st.Close()
		}
	}()
	sb := <-acc
	if sb == nil {
		t.Fatal("no session accepted")
	}
	st, err := sb.AcceptStream(ctxT(t, 10e9))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(st)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("stream: %d bytes, %v", len(got), err)
	}
	if !lost.Load() {
		t.Fatal("no AUTH_PROOF was lost")
	}
	if n := b.Stats().Sessions["stateless_resets_sent"]; n != 0 {
		t.Fatalf("the responder sent %d stateless resets", n)
	}
	if sa.Err() != nil {
		t.Fatalf("dialer's session: %v", sa.Err())
	}
}
