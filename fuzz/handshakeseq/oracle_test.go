package handshakeseq

import (
	"errors"
	"net/netip"
	"slices"
	"testing"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/handshake"
)

// oracle checks every machine output against the protocol's claims. It
// identifies genuine messages by their bytes: every encoding is canonical,
// so a message that verifies must be byte-identical to one the machine
// holding the keys produced, whoever delivered it and from where.
type oracle struct {
	t *testing.T
	w *world
	// auths maps the AUTH_PROOFs produced by seed-holding initiators to
	// their producer; established counts their use.
	auths map[string]*authInfo
	// finals maps the FINALs produced by seed-holding responders to the
	// responder's node.
	finals map[string]int
	// sessions holds each node's responder-side keys by local session id.
	sessions [3]map[codec.SessionID]handshake.Keys
	// cookies holds, per responder node and address, the cookies it sent
	// there in RETRYs.
	cookies [3]map[netip.AddrPort]map[handshake.Cookie]bool
	// badKeyShares counts, per node, HELLOs refused for their ephemeral
	// after the X25519 work was done.
	badKeyShares [3]uint64
}

type authInfo struct {
	node        int
	peer        netip.AddrPort
	established int
}

func newOracle(t *testing.T, w *world) *oracle {
	o := &oracle{t: t, w: w, auths: map[string]*authInfo{}, finals: map[string]int{}}
	for i := range o.sessions {
		o.sessions[i] = map[codec.SessionID]handshake.Keys{}
		o.cookies[i] = map[netip.AddrPort]map[handshake.Cookie]bool{}
	}
	return o
}

// documented are the errors the machines may return: the handshake
// package's sentinels and the codec's handshake message errors.
var documented = []error{
	handshake.ErrAuthFailed, handshake.ErrHandshakeTimeout, handshake.ErrNoCommonSuite,
	handshake.ErrBadKeyShare, handshake.ErrReflection, handshake.ErrUnexpected, handshake.ErrReplay,
	handshake.ErrShortHello, handshake.ErrHalfOpenFull, handshake.ErrOverBudget, handshake.ErrFinalInvalid,
	codec.ErrHandshakeMsgMalformed, codec.ErrHandshakeMsgType, codec.ErrHandshakeMsgKey,
	codec.ErrHandshakeMsgField, codec.ErrHandshakeMsgVersion, codec.ErrHandshakeMsgSuites,
}

func (o *oracle) checkErr(what string, err error) {
	o.t.Helper()
	for _, e := range documented {
		if errors.Is(err, e) {
			return
		}
	}
	o.t.Fatalf("%s: undocumented error %v", what, err)
}

// responderHandled checks one Responder.Handle call of node n for a
// message from addr.
func (o *oracle) responderHandled(n *node, from netip.AddrPort, msg, reply []byte, est *handshake.Keys, err error) {
	t := o.t
	t.Helper()
	if err != nil {
		o.checkErr("Responder.Handle", err)
		if reply != nil || est != nil {
			t.Fatalf("Responder.Handle returned a reply or keys with %v", err)
		}
		switch {
		case errors.Is(err, handshake.ErrOverBudget):
			// Refused for work: only a HELLO that would have earned a
			// RESPONSE (full size, a cookie issued to its address).
			o.checkHelloWithCookie(n, from, msg, "refused for its work budget")
		case errors.Is(err, handshake.ErrBadKeyShare):
			o.badKeyShares[n.idx]++
		}
	}
	// Anti-amplification: no answer is larger than what it answers.
	if len(reply) > len(msg) {
		t.Fatalf("node %d answered %d bytes to %d from %v", n.idx, len(reply), len(msg), from)
	}
	switch typ, _ := codec.PeekHandshakeType(reply); typ {
	case codec.HandshakeRetry:
		var r codec.Retry
		if err := r.Decode(reply); err != nil {
			t.Fatalf("RETRY does not decode: %v", err)
		}
		o.checkHelloSize(msg)
		if o.cookies[n.idx][from] == nil {
			o.cookies[n.idx][from] = map[handshake.Cookie]bool{}
		}
		o.cookies[n.idx][from][r.Cookie] = true
	case codec.HandshakeResponse:
		// State and X25519 work only for an address proved by a cookie
		// this responder sent there.
		o.checkHelloWithCookie(n, from, msg, "sent a RESPONSE")
	case codec.HandshakeReject:
		o.checkReject(n, msg, reply)
	case codec.HandshakeFinal:
		if n.seedOK {
			o.finals[string(reply)] = n.idx
		}
	case codec.HandshakeInvalid:
		if reply != nil {
			t.Fatalf("Responder replied with an undecodable message")
		}
	default:
		t.Fatalf("Responder replied with a %v", typ)
	}
	if est == nil {
		return
	}
	// A session only on the exact AUTH_PROOF a seed-holding initiator
	// produced for this node, at most once.
	a := o.auths[string(msg)]
	switch {
	case !n.seedOK:
		t.Fatalf("the wrong-seed node established a session with %v", from)
	case a == nil:
		t.Fatalf("node %d established a session on an AUTH_PROOF no seed holder produced (from %v)", n.idx, from)
	case a.node == n.idx || owner(a.peer) != n.idx:
		t.Fatalf("node %d established on an AUTH_PROOF node %d made for %v", n.idx, a.node, a.peer)
	case est.PeerNodeID != o.w.nodes[a.node].nodeID || est.Initiator || est.Peer != from:
		t.Fatalf("responder keys name peer %x (initiator %v, %v), producer node %d from %v", est.PeerNodeID[:4], est.Initiator, est.Peer, a.node, from)
	}
	if a.established++; a.established > 1 {
		t.Fatalf("one AUTH_PROOF established %d sessions", a.established)
	}
	if typ, _ := codec.PeekHandshakeType(reply); typ != codec.HandshakeFinal {
		t.Fatalf("session established without a FINAL")
	}
	if _, dup := o.sessions[n.idx][est.LocalSessionID]; dup {
		t.Fatalf("node %d reused local session id %x", n.idx, est.LocalSessionID)
	}
	o.sessions[n.idx][est.LocalSessionID] = *est
}

// checkReject: a REJECT answers only a HELLO it is bound to (the HELLO's
// nonce echoed) that offers another version or no suite of the responder,
// and names the responder's own version and suites.
func (o *oracle) checkReject(n *node, msg, reply []byte) {
	t := o.t
	t.Helper()
	var r codec.Reject
	if err := r.Decode(reply); err != nil {
		t.Fatalf("REJECT does not decode: %v", err)
	}
	version, nonce, err := codec.PeekHelloVersion(msg)
	switch {
	case err != nil:
		t.Fatalf("REJECT answering a message that is no HELLO: %v", err)
	case r.Echo != nonce:
		t.Fatal("REJECT does not echo the HELLO's nonce")
	case r.Version != codec.HandshakeVersion || !slices.Equal(r.Suites, n.cfg.Suites):
		t.Fatalf("REJECT names version %d suites %v, the responder has %d %v", r.Version, r.Suites, codec.HandshakeVersion, n.cfg.Suites)
	case r.Reason == codec.RejectVersion && version == codec.HandshakeVersion:
		t.Fatalf("REJECT for version %d, the responder's own", version)
	case r.Reason == codec.RejectNoCommonSuite:
		var h codec.Hello
		if err := h.Decode(msg); err != nil {
			t.Fatalf("no-common-suite REJECT answering an undecodable HELLO: %v", err)
		}
		for _, id := range h.Suites {
			if slices.Contains(n.cfg.Suites, id) {
				t.Fatalf("no-common-suite REJECT to a HELLO offering suite %d, which the responder has", id)
			}
		}
	}
}

// checkHelloWithCookie: msg is a full-size HELLO carrying a cookie n
// issued to from.
func (o *oracle) checkHelloWithCookie(n *node, from netip.AddrPort, msg []byte, what string) {
	o.t.Helper()
	o.checkHelloSize(msg)
	var h codec.Hello
	if err := h.Decode(msg); err != nil || !h.HasCookie || !o.cookies[n.idx][from][h.Cookie] {
		o.t.Fatalf("node %d %s to %v for a HELLO without a cookie it issued there (%v)", n.idx, what, from, err)
	}
}

// checkHelloSize: RETRY and RESPONSE answer only HELLOs of a full datagram.
func (o *oracle) checkHelloSize(msg []byte) {
	if typ, _ := codec.PeekHandshakeType(msg); typ != codec.HandshakeHello || len(msg) < handshake.MinHelloPayload {
		o.t.Fatalf("RETRY or RESPONSE answering a %v of %d bytes", typ, len(msg))
	}
}

// initiatorSent checks and records a message an initiator of n sends
// (Start, retransmission, or the answer to RETRY or RESPONSE).
func (o *oracle) initiatorSent(n *node, p *pending, out []byte) {
	t := o.t
	t.Helper()
	switch typ, err := codec.PeekHandshakeType(out); typ {
	case codec.HandshakeHello:
		if len(out) < handshake.MinHelloPayload {
			t.Fatalf("HELLO of %d bytes, below the %d-byte minimum", len(out), handshake.MinHelloPayload)
		}
	case codec.HandshakeAuthProof:
		if n.seedOK {
			if a := o.auths[string(out)]; a == nil {
				o.auths[string(out)] = &authInfo{node: n.idx, peer: p.peer}
			}
		}
	default:
		t.Fatalf("initiator sent a %v (%v)", typ, err)
	}
}

// initiatorHandled checks one Initiator.Handle call of node n on msg.
func (o *oracle) initiatorHandled(n *node, p *pending, msg, out []byte, done bool, err error) {
	t := o.t
	t.Helper()
	if err != nil {
		o.checkErr("Initiator.Handle", err)
		if out != nil || done {
			t.Fatalf("Initiator.Handle returned output with %v", err)
		}
		if fatal := p.in.Err(); fatal != nil && !errors.Is(err, fatal) {
			t.Fatalf("Err() %v differs from the fatal error %v", fatal, err)
		}
	}
	if out != nil {
		o.initiatorSent(n, p, out)
	}
	if !done {
		return
	}
	// Completion only on the exact FINAL of the seed-holding responder it
	// dialed, and then with that responder's keys, mirrored.
	k, ok := p.in.Keys()
	r, fromResponder := o.finals[string(msg)]
	switch {
	case !ok:
		t.Fatal("done without keys")
	case !n.seedOK:
		t.Fatalf("the wrong-seed node completed a handshake with %v", p.peer)
	case !fromResponder:
		t.Fatalf("node %d completed on a FINAL no seed holder produced", n.idx)
	case r != owner(p.peer) || r == n.idx:
		t.Fatalf("node %d completed towards %v on a FINAL of node %d", n.idx, p.peer, r)
	}
	rk, ok := o.sessions[r][k.RemoteSessionID]
	switch {
	case !ok:
		t.Fatalf("node %d completed, but node %d holds no session %x", n.idx, r, k.RemoteSessionID)
	case !k.Initiator || k.PeerNodeID != o.w.nodes[r].nodeID || rk.PeerNodeID != n.nodeID:
		t.Fatalf("node %d completed with node %d: initiator %v, its keys name peer %x, the responder's keys name peer %x",
			n.idx, r, k.Initiator, k.PeerNodeID, rk.PeerNodeID)
	case rk.RemoteSessionID != k.LocalSessionID || rk.Suite != k.Suite:
		t.Fatalf("session ids or suite differ: %x/%x, %d/%d", rk.RemoteSessionID, k.LocalSessionID, rk.Suite, k.Suite)
	case rk.SendSecret != k.RecvSecret || rk.RecvSecret != k.SendSecret:
		t.Fatal("the two sides derived different traffic secrets")
	case k.SendSecret == k.RecvSecret:
		t.Fatal("both directions share one secret")
	}
}

// checkResolve: the decision is the mirror of the peer's, and only the
// node with the higher id answers.
func (o *oracle) checkResolve(own, peer [32]byte, res handshake.Resolution) {
	back := handshake.ResolveSimultaneous(peer, own)
	switch {
	case res == handshake.DropReflected && back == handshake.DropReflected && own == peer:
	case res == handshake.KeepInitiator && back == handshake.Respond:
	case res == handshake.Respond && back == handshake.KeepInitiator:
	default:
		o.t.Fatalf("ResolveSimultaneous %v one way, %v the other", res, back)
	}
}

// checkTables: every table stays within its bound.
func (o *oracle) checkTables() {
	for _, n := range o.w.nodes {
		if h := n.resp.HalfOpen(); h > maxHalfOpen {
			o.t.Fatalf("node %d holds %d half-open handshakes (limit %d)", n.idx, h, maxHalfOpen)
		}
		if j := n.jar.Len(); j > jarCapacity {
			o.t.Fatalf("node %d's cookie jar holds %d (capacity %d)", n.idx, j, jarCapacity)
		}
		// X25519 work only for RESPONSEs (and HELLOs whose key share
		// failed after the work): two operations each.
		st := n.cfg.Stats
		if x, want := st.X25519Ops.Load(), 2*(st.ResponsesSent.Load()+o.badKeyShares[n.idx]); x != want {
			o.t.Fatalf("node %d did %d X25519 operations for %d RESPONSEs and %d bad key shares", n.idx, x, st.ResponsesSent.Load(), o.badKeyShares[n.idx])
		}
	}
}
