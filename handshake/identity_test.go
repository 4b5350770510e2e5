package handshake

import (
	"errors"
	"testing"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/identity"
)

// The node identity tests: every test node has the group seed and a
// static key of its own (nodeKey: identity.FromSeed of its node seed).

// TestExpectRefusesImpersonator: a node with the group seed but another
// node key answers a dial pinned to a known id: the initiator fails with
// ErrPeerIdentity at the RESPONSE, fatally, without keys and without an
// AUTH_PROOF; the responder establishes nothing.
func TestExpectRefusesImpersonator(t *testing.T) {
	p := newPairWith(t, testConfig(0x11, 100), testConfig(0x33, 101)) // 0x33 at 0x22's address
	p.in.Expect(nodeID(0x22))
	p, resp := reachResponseOf(t, p)
	out, done, err := p.in.Handle(resp, p.now)
	if !errors.Is(err, ErrPeerIdentity) || done || out != nil {
		t.Fatalf("impersonator: done %v, out %d, %v", done, len(out), err)
	}
	if _, ok := p.in.Keys(); ok || !errors.Is(p.in.Err(), ErrPeerIdentity) || !p.in.NextTimeout().IsZero() {
		t.Fatal("not fatal, or keys after ErrPeerIdentity")
	}
	if _, _, err := p.in.Handle(resp, p.now); !errors.Is(err, ErrPeerIdentity) {
		t.Fatal("not sticky")
	}
	if p.icfg.Stats.InitWrongPeer.Load() != 1 || p.rcfg.Stats.Established.Load() != 0 || p.icfg.Stats.InitCompleted.Load() != 0 {
		t.Fatal("counters")
	}

	// The genuine node passes the same pin.
	q := newPair(t, 102)
	q.in.Expect(nodeID(0x22))
	if ik, _ := q.run(); ik.PeerNodeID != nodeID(0x22) {
		t.Fatal("pinned dial to the genuine node")
	}
}

// TestAllowPeerOnInitiatorRefuses: an initiator whose allow-list does not
// hold the responder's proven id fails with ErrPeerNotAllowed (fatal, no
// keys, counted in PeersRefused); one that holds it completes.
func TestAllowPeerOnInitiatorRefuses(t *testing.T) {
	p := newPair(t, 110)
	p.icfg.AllowPeer = func(id [32]byte) bool { return id == nodeID(0x44) }
	p.in, _ = NewInitiator(p.icfg, addrR, p.jar)
	p, resp := reachResponseOf(t, p)
	out, done, err := p.in.Handle(resp, p.now)
	if !errors.Is(err, ErrPeerNotAllowed) || done || out != nil || !errors.Is(p.in.Err(), ErrPeerNotAllowed) {
		t.Fatalf("refused peer: done %v, %v", done, err)
	}
	if _, ok := p.in.Keys(); ok || p.icfg.Stats.PeersRefused.Load() != 1 {
		t.Fatal("keys or counter")
	}

	q := newPair(t, 111)
	q.icfg.AllowPeer = func(id [32]byte) bool { return id == nodeID(0x22) }
	q.in, _ = NewInitiator(q.icfg, addrR, q.jar)
	if ik, _ := q.run(); ik.PeerNodeID != nodeID(0x22) {
		t.Fatal("allowed peer")
	}
}

// TestResponderAllowPeerStillCompletes: a responder's allow-list does not
// stop the handshake: it completes and reports the initiator's proven id,
// so that the session layer can refuse the session authenticated.
func TestResponderAllowPeerStillCompletes(t *testing.T) {
	p := newPair(t, 115)
	var asked [][32]byte
	p.rcfg.AllowPeer = func(id [32]byte) bool { asked = append(asked, id); return false }
	p.resp, _ = NewResponder(p.rcfg)
	_, rk := p.run()
	if rk.PeerNodeID != nodeID(0x11) || p.rcfg.Stats.Established.Load() != 1 {
		t.Fatal("responder with an allow-list")
	}
	if len(asked) != 0 || p.rcfg.Stats.PeersRefused.Load() != 0 {
		t.Fatalf("the responder consulted AllowPeer %d times", len(asked))
	}
}

// TestPeerNodeIDsAreProvenKeys: each side's Keys.PeerNodeID is
// identity.IDOf of the key the other side really holds.
func TestPeerNodeIDsAreProvenKeys(t *testing.T) {
	p := newPair(t, 120)
	ik, rk := p.run()
	ipub, rpub := nodeKey(0x11).Public(), nodeKey(0x22).Public()
	if rk.PeerNodeID != identity.IDOf(&ipub) || ik.PeerNodeID != identity.IDOf(&rpub) {
		t.Fatal("PeerNodeID is not the id of the peer's static key")
	}
	if ik.PeerNodeID == rk.PeerNodeID {
		t.Fatal("both sides name the same node")
	}
}

// TestForgedResponderStatic: a responder with the group seed that seals
// another node's static key X in its RESPONSE but holds only its own
// private key (so es is computed with a scalar that is not X's) fails the
// initiator with ErrAuthFailed: the static opens (the seed is right), the
// MAC over es does not verify.
func TestForgedResponderStatic(t *testing.T) {
	p := newPairWith(t, testConfig(0x11, 130), testConfig(0x33, 131))
	p.resp.p.staticPub = nodeKey(0x22).Public() // seal X = 0x22's key; es uses 0x33's scalar
	p, resp := reachResponseOf(t, p)
	out, done, err := p.in.Handle(resp, p.now)
	if !errors.Is(err, ErrAuthFailed) || done || out != nil || p.icfg.Stats.InitAuthFailures.Load() != 1 {
		t.Fatalf("forged static: done %v, %v", done, err)
	}
	if _, ok := p.in.Keys(); ok {
		t.Fatal("keys")
	}
}

// TestAuthProofForgedStatic: an initiator with the group seed that seals a
// static key it does not hold (another node's public key, se computed with
// its own scalar) fails on the responder: ErrAuthFailed, counted in
// AuthFailures, no keys, no session; after maxAuthFailures tries its
// half-open entry is gone.
func TestAuthProofForgedStatic(t *testing.T) {
	p := newPair(t, 140)
	p.in.p.staticPub = nodeKey(0x44).Public() // claim 0x44; se uses 0x11's scalar
	p, resp := reachResponseOf(t, p)
	auth, done, err := p.in.Handle(resp, p.now)
	if err != nil || !done {
		t.Fatal(err)
	}
	reply, keys, err := p.toResponder(auth)
	if !errors.Is(err, ErrAuthFailed) || keys != nil || reply != nil {
		t.Fatalf("forged AUTH_PROOF: keys %v, %v", keys != nil, err)
	}
	st := p.rcfg.Stats
	if st.AuthFailures.Load() != 1 || st.Established.Load() != 0 || p.resp.HalfOpen() != 1 {
		t.Fatal("not counted, or half-open dropped at the first failure")
	}
	for range maxAuthFailures - 1 {
		if _, keys, err := p.toResponder(auth); !errors.Is(err, ErrAuthFailed) || keys != nil {
			t.Fatalf("forged AUTH_PROOF again: %v", err)
		}
	}
	if st.AuthFailures.Load() != maxAuthFailures || st.Established.Load() != 0 || p.resp.HalfOpen() != 0 {
		t.Fatalf("after %d failures: %d counted, half-open %d", maxAuthFailures, st.AuthFailures.Load(), p.resp.HalfOpen())
	}
}

// TestSameNodeInitiator: two processes with one node key: the initiator
// sees its own static key in the RESPONSE and fails with ErrSameNode.
func TestSameNodeInitiator(t *testing.T) {
	p := newPairWith(t, testConfig(0x11, 150), testConfig(0x11, 151))
	p, resp := reachResponseOf(t, p)
	out, done, err := p.in.Handle(resp, p.now)
	if !errors.Is(err, ErrSameNode) || done || out != nil || !errors.Is(p.in.Err(), ErrSameNode) {
		t.Fatalf("same node: %v", err)
	}
}

// TestSameNodeResponder: an AUTH_PROOF that proves the responder's own
// static key fails with ErrSameNode on the responder, before any static
// DH. An initiator of this package stops at the RESPONSE already (see
// TestSameNodeInitiator), so the test builds the AUTH_PROOF itself, as an
// initiator with the responder's node key that skipped that check would:
// the responder's own static key sealed under ck2.
func TestSameNodeResponder(t *testing.T) {
	p := newPair(t, 160)
	hello, err := p.in.Start(p.now)
	if err != nil {
		t.Fatal(err)
	}
	priv, trH := p.in.priv, p.in.tr.clone()
	resp, _, err := p.toResponder(hello)
	if err != nil {
		t.Fatal(err)
	}
	var r codec.Response
	if err := r.Decode(resp); err != nil {
		t.Fatal(err)
	}
	ee, _ := dh(priv, &r.Eph)
	ck1 := extract(p.in.p.ck0[:], ee[:])
	rpub := nodeKey(0x22).Public()
	es, _ := dh(priv, &rpub)
	ck2 := extract(ck1[:], es[:])
	trH.add(r.AppendCore(nil))
	thR := trH.sum()
	a := codec.AuthProof{Echo: r.Nonce, HasStatic: true}
	sealStatic(&a.Static, &ck2, labelInitStatic, &thR, &rpub)
	ops := p.rcfg.Stats.X25519Ops.Load()
	_, keys, err := p.toResponder(a.Append(nil))
	if !errors.Is(err, ErrSameNode) || keys != nil || p.rcfg.Stats.Established.Load() != 0 {
		t.Fatalf("same node on the responder: %v", err)
	}
	if p.rcfg.Stats.X25519Ops.Load() != ops || p.rcfg.Stats.X25519StaticOps.Load() != 0 {
		t.Fatal("static DH done for the own key")
	}
}
