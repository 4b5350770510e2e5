package handshake

import (
	"crypto/ecdh"
	"net/netip"
	"time"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/identity"
)

type initState uint8

const (
	initIdle    initState = iota
	initHello             // HELLO sent, waiting for RETRY or RESPONSE
	initConfirm           // keys ready, AUTH_PROOF sent, waiting for FINAL
	initDone              // FINAL verified (or the session confirmed the keys)
	initFailed
)

// Initiator runs one handshake from the initiator side. It is not safe for
// concurrent use. Byte slices it returns are owned by the Initiator and
// valid until its next method call: send (copy) them at once.
//
// The keys are ready one round trip after the HELLO (Handle returns done
// with the AUTH_PROOF to send): the caller may send application data at
// once. The Initiator keeps retransmitting the AUTH_PROOF until the FINAL
// arrives or the caller reports an authenticated frame from the peer
// (Confirm).
type Initiator struct {
	p    *params
	peer netip.AddrPort
	jar  *CookieJar

	state   initState
	err     error
	priv    *ecdh.PrivateKey // ephemeral key
	hello   codec.Hello
	helloB  [codec.HandshakeMaxSuites]uint8
	ticket  jarTicket // the ticket offered (ticket nil: none)
	tr      transcript
	ck      [32]byte // chaining key after the last DH
	master  [32]byte
	out     []byte // last message, retransmitted on the timer
	retries int

	deadline, nextRetx time.Time
	rto                time.Duration

	keys      Keys
	expect    [32]byte // the node id the responder must prove (zero: any)
	helloSent bool     // PendingHello was used
}

// PendingHello returns the HELLO in flight once per attempt (nil after
// that, or when no HELLO is pending): for a simultaneous open the caller
// keeps initiating (ResolveSimultaneous said KeepInitiator), whose peer's
// NAT may have dropped that HELLO before the peer's own HELLO opened it.
// Sending it again at once saves a retransmission interval; once, so that
// HELLOs spoofed from the peer's address cannot make this node send more.
func (in *Initiator) PendingHello() []byte {
	if in.state != initHello || in.helloSent {
		return nil
	}
	in.helloSent = true
	return in.out
}

// NewInitiator returns an initiator for a handshake with the responder at
// peer. jar (may be nil) supplies and stores cookies per address. It
// returns ErrConfig for an invalid cfg.
func NewInitiator(cfg *Config, peer netip.AddrPort, jar *CookieJar) (*Initiator, error) {
	p, err := cfg.params()
	if err != nil {
		return nil, err
	}
	return &Initiator{p: p, peer: peer, jar: jar}, nil
}

// Expect makes the handshake require that the responder proves the node
// id id (pinning): a RESPONSE proving another id ends the handshake with
// ErrPeerIdentity. Call it before Start; the zero id accepts any node.
func (in *Initiator) Expect(id [32]byte) { in.expect = id }

// Peer returns the responder address given to NewInitiator.
func (in *Initiator) Peer() netip.AddrPort { return in.peer }

// Ephemeral returns the initiator's ephemeral public key (zero before
// Start), for Config.IsOwnEphemeral.
func (in *Initiator) Ephemeral() [32]byte { return in.hello.Eph }

// Nonce returns the HELLO's nonce (zero before Start): it orders the two
// sides of a simultaneous open (ResolveSimultaneous).
func (in *Initiator) Nonce() [32]byte { return in.hello.Nonce }

// Resuming reports whether the HELLO offers a resumption ticket.
func (in *Initiator) Resuming() bool { return in.ticket.ticket != nil }

// Start begins the handshake at time now and returns the HELLO payload
// (padded so that its type-0x05 frame is MinHelloFrame bytes). It offers
// the ticket Config.Tickets holds for the peer, if any (and, with Expect,
// only one the expected node issued). It returns ErrState if called twice,
// or an error from Config.Rand or NewSessionID.
func (in *Initiator) Start(now time.Time) ([]byte, error) {
	if in.state != initIdle {
		return nil, ErrState
	}
	var err error
	h := &in.hello
	if in.priv, h.Eph, err = in.p.newEphemeral(); err != nil {
		return nil, in.fail(err)
	}
	in.p.Stats.InitX25519Ops.Add(1)
	if err := in.p.random(h.Nonce[:]); err != nil {
		return nil, in.fail(err)
	}
	if h.SID, err = in.p.sessionID(); err != nil {
		return nil, in.fail(err)
	}
	h.Suites = append(in.helloB[:0], in.p.Suites...)
	h.Timestamp = max(0, now.UnixMilli())
	h.Cookie, h.HasCookie = in.jar.Get(in.peer, now)
	if in.p.TicketLifetime > 0 {
		if t, ok := in.p.Tickets.take(in.peer, &in.expect, now); ok {
			in.ticket = t
			h.Ticket = t.ticket
		}
	}
	h.PadToFrame(MinHelloFrame)
	in.tr = newTranscript()
	in.tr.addBuilt(h.AppendCore(in.tr.coreBuf()))
	in.out = h.Append(make([]byte, 0, MinHelloPayload))
	in.state = initHello
	in.deadline = now.Add(in.p.Timeout)
	in.armTimer(now)
	in.p.Stats.InitStarted.Add(1)
	if in.ticket.ticket != nil {
		in.p.Stats.InitResumeOffered.Add(1)
	}
	return in.out, nil
}

func (in *Initiator) armTimer(now time.Time) {
	in.rto = in.p.InitialRTO
	in.nextRetx = now.Add(in.rto)
}

func (in *Initiator) fail(err error) error {
	in.state, in.err = initFailed, err
	in.wipe()
	return err
}

// wipe forgets the secrets the machine no longer needs.
func (in *Initiator) wipe() {
	in.priv, in.ck, in.master = nil, [32]byte{}, [32]byte{}
	in.ticket = jarTicket{}
}

// Handle processes one handshake payload from the responder. It returns
// the payload to send (nil for none) and done true exactly once, when a
// RESPONSE verifies: Keys is valid from then on and the returned payload
// is the AUTH_PROOF (send it, then application data). A FINAL afterwards
// confirms the keys (Confirmed), stores the ticket it carries, and stops
// the retransmissions.
//
// A dropped message gives a non-fatal error (ErrUnexpected,
// ErrReflection, ErrFinalInvalid, a codec.ErrHandshakeMsg error); the
// fatal errors ErrAuthFailed, ErrBadKeyShare, ErrPeerIdentity,
// ErrPeerNotAllowed, ErrSameNode, ErrNoCommonSuite (a RESPONSE choosing a
// suite not offered) and a *RejectError (a REJECT echoing the HELLO in
// flight, matching ErrNoCommonSuite or ErrUnsupportedVersion) end the
// handshake, and later calls, and Err, return the same error. A REJECT
// that does not echo the HELLO in flight, arrives after the RESPONSE, or
// contradicts the HELLO is dropped with ErrUnexpected.
func (in *Initiator) Handle(msg []byte, now time.Time) (out []byte, done bool, err error) {
	switch in.state {
	case initFailed:
		return nil, false, in.err
	case initIdle, initDone:
		return nil, false, ErrUnexpected
	}
	typ, err := codec.PeekHandshakeType(msg)
	if err != nil {
		return nil, false, err
	}
	switch typ {
	case codec.HandshakeRetry:
		out, err = in.handleRetry(msg, now)
	case codec.HandshakeResponse:
		out, err = in.handleResponse(msg, now)
		done = err == nil
	case codec.HandshakeFinal:
		err = in.handleFinal(msg, now)
	case codec.HandshakeReject:
		err = in.handleReject(msg)
	default:
		err = ErrUnexpected
	}
	return out, done, err
}

func (in *Initiator) handleRetry(msg []byte, now time.Time) ([]byte, error) {
	var r codec.Retry
	if err := r.Decode(msg); err != nil {
		return nil, err
	}
	if in.state != initHello || r.Echo != in.hello.Nonce || in.retries >= maxRetries ||
		(in.hello.HasCookie && r.Cookie == in.hello.Cookie) {
		return nil, ErrUnexpected
	}
	in.retries++
	in.jar.Put(in.peer, r.Cookie, now)
	in.hello.Cookie, in.hello.HasCookie = r.Cookie, true
	in.hello.PadToFrame(MinHelloFrame)
	in.out = in.hello.Append(in.out[:0]) // the core (and transcript) is unchanged
	in.armTimer(now)
	return in.out, nil
}

func (in *Initiator) handleResponse(msg []byte, now time.Time) ([]byte, error) {
	// Decode into a local copy: a RESPONSE that is dropped below (a late
	// duplicate, or one forged from the responder's address while this
	// side waits for FINAL) must not touch the state the keys are built from.
	var r codec.Response
	if err := r.Decode(msg); err != nil {
		return nil, err
	}
	if in.state != initHello || r.Echo != in.hello.Nonce {
		return nil, ErrUnexpected
	}
	if r.Eph == in.hello.Eph {
		in.p.Stats.Reflections.Add(1)
		return nil, ErrReflection
	}
	st := in.p.Stats
	ee, err := dh(in.priv, &r.Eph)
	st.InitX25519Ops.Add(1)
	if err != nil {
		return nil, in.fail(err)
	}
	var peerID [32]byte
	a := codec.AuthProof{Echo: r.Nonce}
	if r.HasStatic {
		// Full handshake (also when the responder did not take our
		// ticket): learn and check its static key.
		ck1 := extract(in.p.ck0[:], ee[:])
		thH := in.tr.sum()
		sR, ok := openStatic(&ck1, labelRespStatic, &thH, &r.Static)
		if !ok {
			st.InitAuthFailures.Add(1)
			return nil, in.fail(ErrAuthFailed)
		}
		if sR == in.p.staticPub {
			return nil, in.fail(ErrSameNode)
		}
		es, err := dh(in.priv, &sR)
		st.InitX25519Ops.Add(1)
		if err != nil {
			return nil, in.fail(err)
		}
		ck2 := extract(ck1[:], es[:])
		in.tr.addBuilt(r.AppendCore(in.tr.coreBuf()))
		thR := in.tr.sum()
		if want := proofMAC(&ck2, labelRespProof, &thR); !macEqual(&want, &r.MAC) {
			// It holds the seed (the static key opened) but not the private
			// key of the static key it sent.
			st.InitAuthFailures.Add(1)
			return nil, in.fail(ErrAuthFailed)
		}
		peerID = identity.IDOf(&sR)
		if err := in.checkPeer(&peerID); err != nil {
			return nil, err
		}
		se, err := dh(in.p.staticPriv, &r.Eph)
		st.InitX25519Ops.Add(1)
		if err != nil {
			return nil, in.fail(err)
		}
		sealStatic(&a.Static, &ck2, labelInitStatic, &thR, &in.p.staticPub)
		a.HasStatic = true
		in.ck = extract(ck2[:], se[:])
	} else {
		if in.ticket.ticket == nil { // resumption without a ticket offered
			st.InitAuthFailures.Add(1)
			return nil, in.fail(ErrAuthFailed)
		}
		in.ck = extract(in.p.ck0[:], ee[:], in.ticket.rs[:])
		in.tr.addBuilt(r.AppendCore(in.tr.coreBuf()))
		thR := in.tr.sum()
		if want := proofMAC(&in.ck, labelRespProof, &thR); !macEqual(&want, &r.MAC) {
			st.InitAuthFailures.Add(1)
			return nil, in.fail(ErrAuthFailed)
		}
		peerID = in.ticket.peer
		if err := in.checkPeer(&peerID); err != nil {
			return nil, err
		}
	}
	offered := false
	for _, s := range in.hello.Suites {
		offered = offered || s == r.Suite
	}
	if !offered {
		return nil, in.fail(ErrNoCommonSuite)
	}
	in.tr.addBuilt(a.AppendCore(in.tr.coreBuf()))
	thA := in.tr.sum()
	a.Proof = proofMAC(&in.ck, labelInitProof, &thA)
	in.master = master(&in.ck, &thA)
	i2r, r2i := trafficSecrets(&in.master)
	in.keys = Keys{
		Peer:            in.peer,
		PeerNodeID:      peerID,
		LocalSessionID:  in.hello.SID,
		RemoteSessionID: r.SID,
		Suite:           r.Suite,
		Initiator:       true,
		Resumed:         !r.HasStatic,
		SendSecret:      i2r,
		RecvSecret:      r2i,
	}
	if r.HasStatic && in.ticket.ticket != nil {
		st.InitResumeDeclined.Add(1)
	}
	if !r.HasStatic {
		st.InitResumed.Add(1)
	}
	in.priv = nil
	in.out = a.Append(in.out[:0])
	in.state = initConfirm
	in.armTimer(now)
	st.InitCompleted.Add(1)
	return in.out, nil
}

// checkPeer applies Expect and Config.AllowPeer to the responder's proven
// id (fatal on refusal).
func (in *Initiator) checkPeer(id *[32]byte) error {
	if in.expect != ([32]byte{}) && *id != in.expect {
		in.p.Stats.InitWrongPeer.Add(1)
		return in.fail(ErrPeerIdentity)
	}
	if in.p.AllowPeer != nil && !in.p.AllowPeer(*id) {
		in.p.Stats.PeersRefused.Add(1)
		return in.fail(ErrPeerNotAllowed)
	}
	return nil
}

func (in *Initiator) handleFinal(msg []byte, now time.Time) error {
	var f codec.Final
	if err := f.Decode(msg); err != nil {
		return err
	}
	if in.state != initConfirm || f.Echo != in.hello.Nonce {
		return ErrUnexpected
	}
	tr := in.tr.clone()
	tr.addBuilt(f.AppendCore(tr.coreBuf()))
	th := tr.sum()
	if want := proofMAC(&in.ck, labelFinal, &th); !macEqual(&want, &f.MAC) {
		return ErrFinalInvalid
	}
	if len(f.Ticket) > 0 && in.p.TicketLifetime > 0 && in.p.Tickets != nil {
		in.p.Tickets.put(in.peer, jarTicket{
			ticket:  append([]byte(nil), f.Ticket...),
			rs:      resumptionSecret(&in.master),
			peer:    in.keys.PeerNodeID,
			expires: now.Add(in.p.TicketLifetime),
		}, now)
		in.p.Stats.InitTicketsStored.Add(1)
	}
	in.confirm()
	return nil
}

// Confirm tells the initiator that an authenticated frame arrived from the
// peer under the session's keys: the responder has the keys, so the
// AUTH_PROOF need not be retransmitted (a FINAL lost on the way is not
// waited for; its ticket is lost with it).
func (in *Initiator) Confirm() {
	if in.state == initConfirm {
		in.confirm()
	}
}

func (in *Initiator) confirm() {
	in.state, in.out = initDone, nil
	in.wipe()
}

// OnTimer advances the retransmission timer to now. It returns the last
// message again when its retransmission time has come (the interval then
// doubles, up to MaxRTO), and ErrHandshakeTimeout (fatal) once Timeout has
// passed since Start without a FINAL or Confirm. Before Start and after
// confirmation it does nothing.
func (in *Initiator) OnTimer(now time.Time) ([]byte, error) {
	switch in.state {
	case initFailed:
		return nil, in.err
	case initIdle, initDone:
		return nil, nil
	}
	if !now.Before(in.deadline) {
		in.p.Stats.InitTimeouts.Add(1)
		return nil, in.fail(ErrHandshakeTimeout)
	}
	if now.Before(in.nextRetx) {
		return nil, nil
	}
	in.rto = min(2*in.rto, in.p.MaxRTO)
	in.nextRetx = now.Add(in.rto)
	in.p.Stats.InitRetransmits.Add(1)
	return in.out, nil
}

// NextTimeout returns when OnTimer next has work (a retransmission or the
// timeout), or the zero time when the handshake is not running.
func (in *Initiator) NextTimeout() time.Time {
	if in.state != initHello && in.state != initConfirm {
		return time.Time{}
	}
	if in.nextRetx.Before(in.deadline) {
		return in.nextRetx
	}
	return in.deadline
}

// Done reports whether the keys are ready (Keys valid).
func (in *Initiator) Done() bool { return in.state == initConfirm || in.state == initDone }

// Confirmed reports whether the responder confirmed the keys (a FINAL, or
// Confirm).
func (in *Initiator) Confirmed() bool { return in.state == initDone }

// Err returns the fatal error that ended the handshake, or nil.
func (in *Initiator) Err() error { return in.err }

// Keys returns the session keys and true once they are ready.
func (in *Initiator) Keys() (Keys, bool) { return in.keys, in.Done() }
