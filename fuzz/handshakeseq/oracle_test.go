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
	// responses maps the RESPONSEs produced by group-seed responders to
	// their producer.
	responses map[string]respInfo
	// auths maps the AUTH_PROOFs produced by group-seed initiators to
	// their producer; established counts their use.
	auths map[string]*authInfo
	// finals maps the FINALs produced by group-seed responders to the
	// AUTH_PROOF they answer.
	finals map[string]finalInfo
	// sessions holds each node's responder-side keys by local session id.
	sessions [numNodes]map[codec.SessionID]handshake.Keys
	// cookies holds, per responder node and address, the cookies it sent
	// there in RETRYs.
	cookies [numNodes]map[netip.AddrPort]map[handshake.Cookie]bool
	// respNonces holds, per responder node and address, the nonces of the
	// RESPONSEs it sent there: an AUTH_PROOF echoing one proves the
	// address.
	respNonces [numNodes]map[netip.AddrPort]map[[32]byte]bool
	// traffic counts, per responder node and address, the handshake bytes
	// received from it and sent to it while the address is unproven.
	traffic [numNodes]map[netip.AddrPort]*flow
	// badKeyShares counts, per node, HELLOs refused for their ephemeral
	// after the X25519 work was done.
	badKeyShares [numNodes]uint64
}

type respInfo struct {
	node    int
	resumed bool
}

type authInfo struct {
	node        int      // the initiator's node (the holder of its static key)
	p           *pending // the initiator (keys, the responder it verified)
	established int
}

type finalInfo struct {
	node int
	auth *authInfo
}

type flow struct {
	in, out int
	proven  bool
}

func newOracle(t *testing.T, w *world) *oracle {
	o := &oracle{t: t, w: w, responses: map[string]respInfo{}, auths: map[string]*authInfo{}, finals: map[string]finalInfo{}}
	for i := range o.sessions {
		o.sessions[i] = map[codec.SessionID]handshake.Keys{}
		o.cookies[i] = map[netip.AddrPort]map[handshake.Cookie]bool{}
		o.respNonces[i] = map[netip.AddrPort]map[[32]byte]bool{}
		o.traffic[i] = map[netip.AddrPort]*flow{}
	}
	return o
}

// documented are the errors the machines may return: the handshake
// package's sentinels (a *RejectError matches ErrNoCommonSuite or
// ErrUnsupportedVersion) and the codec's handshake message errors.
var documented = []error{
	handshake.ErrAuthFailed, handshake.ErrHandshakeTimeout, handshake.ErrNoCommonSuite,
	handshake.ErrUnsupportedVersion, handshake.ErrBadKeyShare, handshake.ErrReflection,
	handshake.ErrUnexpected, handshake.ErrReplay, handshake.ErrShortHello, handshake.ErrHalfOpenFull,
	handshake.ErrOverBudget, handshake.ErrFinalInvalid, handshake.ErrPeerIdentity,
	handshake.ErrPeerNotAllowed, handshake.ErrSameNode,
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

// preState is what the oracle notes about a responder before a call.
type preState struct {
	loaded bool // it may answer a HELLO without a valid cookie only with a RETRY
}

// before notes n's load before a Responder call: at CookieThreshold
// half-open handshakes or more, or with its work budget under load, a
// HELLO must prove its address first.
func (o *oracle) before(n *node) preState {
	th := n.cfg.CookieThreshold
	switch {
	case th < 0:
		return preState{loaded: true}
	case th == 0:
		th = max(1, maxHalfOpen/handshake.DefaultCookieDivisor)
	}
	return preState{loaded: n.resp.HalfOpen() >= th || n.cfg.Budget.UnderLoad(o.w.now)}
}

// responderHandled checks one Responder.Handle (or HandleSimultaneous)
// call of node n for a message from addr.
func (o *oracle) responderHandled(n *node, from netip.AddrPort, msg, reply []byte, est *handshake.Keys, err error, pre preState, simultaneous bool) {
	t := o.t
	t.Helper()
	if err != nil {
		o.checkErr("Responder.Handle", err)
		if reply != nil || est != nil {
			t.Fatalf("Responder.Handle returned a reply or keys with %v", err)
		}
		switch {
		case errors.Is(err, handshake.ErrOverBudget):
			// Refused for work: the budget refuses only under load, when
			// an unproven HELLO gets a RETRY instead; so only a HELLO
			// with a cookie gets here.
			o.checkHelloWithCookie(n, from, msg, "refused for its work budget")
		case errors.Is(err, handshake.ErrBadKeyShare):
			o.badKeyShares[n.idx]++
		}
	}
	o.checkAmplification(n, from, msg, reply)
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
		o.checkHelloSize(msg)
		// Without a cookie it issued there, only on a first contact to a
		// responder that is not loaded (and never to a simultaneous
		// open, which must prove the address).
		if pre.loaded || simultaneous {
			o.checkHelloWithCookie(n, from, msg, "sent a RESPONSE while loaded or to a simultaneous open")
		}
		if len(reply) > handshake.MaxResponseLen {
			t.Fatalf("RESPONSE of %d bytes, above MaxResponseLen %d", len(reply), handshake.MaxResponseLen)
		}
		var r codec.Response
		if err := r.Decode(reply); err != nil {
			t.Fatalf("RESPONSE does not decode: %v", err)
		}
		if o.respNonces[n.idx][from] == nil {
			o.respNonces[n.idx][from] = map[[32]byte]bool{}
		}
		o.respNonces[n.idx][from][r.Nonce] = true
		if !r.HasStatic {
			var h codec.Hello
			if h.Decode(msg) != nil || len(h.Ticket) == 0 {
				t.Fatal("a resumed RESPONSE to a HELLO without a ticket")
			}
		}
		if n.seedOK {
			o.responses[string(reply)] = respInfo{node: n.idx, resumed: !r.HasStatic}
		}
	case codec.HandshakeReject:
		o.checkReject(n, msg, reply)
	case codec.HandshakeFinal:
		// Only to an address that received the RESPONSE the AUTH_PROOF
		// answers.
		var a codec.AuthProof
		if typ, _ := codec.PeekHandshakeType(msg); typ != codec.HandshakeAuthProof || a.Decode(msg) != nil || !o.respNonces[n.idx][from][a.Echo] {
			t.Fatalf("node %d sent a FINAL to %v for a %v not echoing a RESPONSE it sent there", n.idx, from, typ)
		}
		if n.seedOK && est != nil {
			o.finals[string(reply)] = finalInfo{node: n.idx, auth: o.auths[string(msg)]}
		}
	case codec.HandshakeInvalid:
		if reply != nil {
			t.Fatalf("Responder replied with an undecodable message")
		}
	default:
		t.Fatalf("Responder replied with a %v", typ)
	}
	if est != nil {
		o.established(n, from, msg, reply, est)
	}
}

// established checks a session node n's responder established: only on
// the exact AUTH_PROOF a group-seed initiator produced for this node's
// RESPONSE, at most once, naming the node id of that initiator (the
// holder of the static key: never the id of a node it poses as), with
// the initiator's keys mirrored and the same Resumed flag.
func (o *oracle) established(n *node, from netip.AddrPort, msg, reply []byte, est *handshake.Keys) {
	t := o.t
	t.Helper()
	a := o.auths[string(msg)]
	switch {
	case !n.seedOK:
		t.Fatalf("the wrong-seed node established a session with %v", from)
	case a == nil:
		t.Fatalf("node %d established a session on an AUTH_PROOF no group-seed initiator produced (from %v)", n.idx, from)
	case a.node == n.idx || a.p.respNode != n.idx:
		t.Fatalf("node %d established on an AUTH_PROOF node %d made for node %d's RESPONSE", n.idx, a.node, a.p.respNode)
	case est.PeerNodeID != o.w.nodes[a.node].id:
		t.Fatalf("node %d's session from %v names peer %x, but node %d (id %x) holds the key that proved it",
			n.idx, from, est.PeerNodeID[:4], a.node, o.w.nodes[a.node].id[:4])
	case est.Initiator || est.Peer != from:
		t.Fatalf("responder keys: initiator %v, peer %v (from %v)", est.Initiator, est.Peer, from)
	}
	k := a.p.keys
	switch {
	case est.Resumed != k.Resumed:
		t.Fatalf("Resumed: responder %v, initiator %v", est.Resumed, k.Resumed)
	case est.RemoteSessionID != k.LocalSessionID || est.LocalSessionID != k.RemoteSessionID || est.Suite != k.Suite:
		t.Fatalf("session ids or suite differ: %x/%x %x/%x, %d/%d", est.RemoteSessionID, k.LocalSessionID, est.LocalSessionID, k.RemoteSessionID, est.Suite, k.Suite)
	case est.SendSecret != k.RecvSecret || est.RecvSecret != k.SendSecret:
		t.Fatal("the two sides derived different traffic secrets")
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

// checkAmplification: every reply to a HELLO is smaller than it, and a
// responder never sends an address it has not proven more bytes than it
// received from there. An address is proven by a HELLO carrying a cookie
// the responder sent there, or by an AUTH_PROOF echoing a RESPONSE it sent
// there.
func (o *oracle) checkAmplification(n *node, from netip.AddrPort, msg, reply []byte) {
	t := o.t
	t.Helper()
	f := o.traffic[n.idx][from]
	if f == nil {
		f = &flow{}
		o.traffic[n.idx][from] = f
	}
	switch typ, _ := codec.PeekHandshakeType(msg); typ {
	case codec.HandshakeHello:
		if len(reply) > len(msg) {
			t.Fatalf("node %d answered %d bytes to a %d-byte HELLO from %v", n.idx, len(reply), len(msg), from)
		}
		var h codec.Hello
		if h.Decode(msg) == nil && h.HasCookie && o.cookies[n.idx][from][h.Cookie] {
			f.proven = true
		}
	case codec.HandshakeAuthProof:
		var a codec.AuthProof
		if a.Decode(msg) == nil && o.respNonces[n.idx][from][a.Echo] {
			f.proven = true
		}
	}
	if f.proven {
		return
	}
	f.in += len(msg)
	f.out += len(reply)
	if f.out > f.in {
		t.Fatalf("node %d sent %d bytes to the unproven address %v, which sent it %d", n.idx, f.out, from, f.in)
	}
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
	o.t.Helper()
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
		if !p.in.Done() || p.respNode < 0 {
			t.Fatal("AUTH_PROOF sent before the keys were ready")
		}
		if n.seedOK && o.auths[string(out)] == nil {
			o.auths[string(out)] = &authInfo{node: n.idx, p: p}
		}
	default:
		t.Fatalf("initiator sent a %v (%v)", typ, err)
	}
}

// initiatorHandled checks one Initiator.Handle call of node n on msg
// (wasConfirmed: the initiator's state before).
func (o *oracle) initiatorHandled(n *node, p *pending, msg, out []byte, done, wasConfirmed bool, err error) {
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
	if done {
		o.keysReady(n, p, msg, out)
	}
	if out != nil {
		o.initiatorSent(n, p, out)
	}
	if p.in.Confirmed() && !wasConfirmed {
		// Confirmed only on the exact FINAL the responder it verified
		// produced for this initiator's AUTH_PROOF.
		f, ok := o.finals[string(msg)]
		switch {
		case !ok:
			t.Fatalf("node %d confirmed on a FINAL no group-seed responder produced", n.idx)
		case f.node != p.respNode || f.auth == nil || f.auth.p != p:
			t.Fatalf("node %d confirmed on a FINAL node %d produced for another handshake", n.idx, f.node)
		}
	}
}

// keysReady checks an initiator whose keys became ready on msg: only on
// the exact RESPONSE a group-seed responder produced for it, naming that
// responder's node id (the holder of the static key; the ticket's issuer
// when resumed), with the Resumed flag the RESPONSE implies, the pinned id
// and the allow-list respected.
func (o *oracle) keysReady(n *node, p *pending, msg, out []byte) {
	t := o.t
	t.Helper()
	k, ok := p.in.Keys()
	r, genuine := o.responses[string(msg)]
	switch {
	case !ok:
		t.Fatal("done without keys")
	case !n.seedOK:
		t.Fatalf("the wrong-seed node completed a handshake with %v", p.peer)
	case !genuine:
		t.Fatalf("node %d completed on a RESPONSE no group-seed responder produced", n.idx)
	case r.node == n.idx:
		t.Fatalf("node %d completed with itself", n.idx)
	case k.PeerNodeID != o.w.nodes[r.node].id:
		t.Fatalf("node %d's keys name peer %x, but node %d (id %x) holds the key that proved it",
			n.idx, k.PeerNodeID[:4], r.node, o.w.nodes[r.node].id[:4])
	case k.Resumed != r.resumed:
		t.Fatalf("initiator Resumed %v on a RESPONSE resumed %v", k.Resumed, r.resumed)
	case p.expect != [32]byte{} && k.PeerNodeID != p.expect:
		t.Fatalf("node %d pinned %x and completed with %x", n.idx, p.expect[:4], k.PeerNodeID[:4])
	case n.cfg.AllowPeer != nil && !n.cfg.AllowPeer(k.PeerNodeID):
		t.Fatalf("node %d completed with %x, which its allow-list refuses", n.idx, k.PeerNodeID[:4])
	case !k.Initiator || k.Peer != p.peer:
		t.Fatalf("initiator keys: initiator %v, peer %v (dialed %v)", k.Initiator, k.Peer, p.peer)
	case k.SendSecret == k.RecvSecret:
		t.Fatal("both directions share one secret")
	}
	if typ, _ := codec.PeekHandshakeType(out); typ != codec.HandshakeAuthProof {
		t.Fatalf("keys ready without an AUTH_PROOF to send (%v)", typ)
	}
	p.respNode, p.keys = r.node, k
}

// responderHolds reports whether the responder p's keys came from holds
// the session they belong to (so that an authenticated frame from it can
// confirm them).
func (o *oracle) responderHolds(p *pending) bool {
	if p.respNode < 0 {
		return false
	}
	rk, ok := o.sessions[p.respNode][p.keys.RemoteSessionID]
	return ok && rk.RecvSecret == p.keys.SendSecret
}

// checkResolve: the decision is the mirror of the peer's.
func (o *oracle) checkResolve(own, peer [32]byte, res handshake.Resolution) {
	o.t.Helper()
	back := handshake.ResolveSimultaneous(peer, own)
	switch {
	case res == handshake.DropReflected && back == handshake.DropReflected && own == peer:
	case res == handshake.KeepInitiator && back == handshake.Respond:
	case res == handshake.Respond && back == handshake.KeepInitiator:
	default:
		o.t.Fatalf("ResolveSimultaneous %v one way, %v the other", res, back)
	}
}

// checkTables: every table stays within its bound, and the responders'
// X25519 work matches what they answered.
func (o *oracle) checkTables() {
	o.t.Helper()
	for _, n := range o.w.nodes {
		if h := n.resp.HalfOpen(); h > maxHalfOpen {
			o.t.Fatalf("node %d holds %d half-open handshakes (limit %d)", n.idx, h, maxHalfOpen)
		}
		if j := n.jar.Len(); j > jarCapacity {
			o.t.Fatalf("node %d's cookie jar holds %d (capacity %d)", n.idx, j, jarCapacity)
		}
		if j := n.cfg.Tickets.Len(); j > ticketJarCapacity {
			o.t.Fatalf("node %d's ticket jar holds %d (capacity %d)", n.idx, j, ticketJarCapacity)
		}
		// X25519 work: three operations per full RESPONSE, two per
		// resumed one, two per HELLO whose key share failed after the
		// work, one per full AUTH_PROOF that opened (se).
		st := n.cfg.Stats
		full := st.ResponsesSent.Load() - st.Resumed.Load()
		want := 3*full + 2*st.Resumed.Load() + 2*o.badKeyShares[n.idx] + st.X25519StaticOps.Load()
		if x := st.X25519Ops.Load(); x != want {
			o.t.Fatalf("node %d did %d X25519 operations for %d full and %d resumed RESPONSEs, %d bad key shares, %d static ops",
				n.idx, x, full, st.Resumed.Load(), o.badKeyShares[n.idx], st.X25519StaticOps.Load())
		}
	}
}
