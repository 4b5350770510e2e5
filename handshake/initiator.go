package handshake

import (
	"crypto/ecdh"
	"crypto/hmac"
	"net/netip"
	"time"

	"github.com/sttgo/stt/codec"
)

type initState uint8

const (
	initIdle  initState = iota
	initHello           // HELLO sent, waiting for RETRY or RESPONSE
	initAuth            // AUTH_PROOF sent, waiting for FINAL
	initDone
	initFailed
)

// Initiator runs one handshake from the initiator side. It is not safe for
// concurrent use. Byte slices it returns are owned by the Initiator and
// valid until its next method call: send (copy) them at once.
type Initiator struct {
	p    *params
	peer netip.AddrPort
	jar  *CookieJar

	state   initState
	err     error
	priv    *ecdh.PrivateKey
	hello   codec.Hello
	tr      transcript // after HELLO, then after AUTH_PROOF
	prk     []byte
	resp    codec.Response
	out     []byte // last message, retransmitted on the timer
	retries int

	deadline, nextRetx time.Time
	rto                time.Duration

	keys   Keys
	expect [32]byte // the node id the responder must prove (zero: any)
}

// Expect makes the handshake require that the responder proves the node
// id id (pinning): a RESPONSE proving another id ends the handshake with
// ErrPeerIdentity. Call it before Start; the zero id accepts any node.
func (in *Initiator) Expect(id [32]byte) { in.expect = id }

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

// Peer returns the responder address given to NewInitiator.
func (in *Initiator) Peer() netip.AddrPort { return in.peer }

// Ephemeral returns the initiator's ephemeral public key (zero before
// Start), for Config.IsOwnEphemeral.
func (in *Initiator) Ephemeral() [32]byte { return in.hello.Eph }

// Start begins the handshake at time now and returns the HELLO payload
// (padded so that its type-0x05 frame is MinHelloFrame bytes). It returns
// ErrState if called twice, or an error from Config.Rand or NewSessionID.
func (in *Initiator) Start(now time.Time) ([]byte, error) {
	if in.state != initIdle {
		return nil, ErrState
	}
	var err error
	if in.priv, err = in.p.newEphemeral(); err != nil {
		return nil, in.fail(err)
	}
	h := &in.hello
	copy(h.Eph[:], in.priv.PublicKey().Bytes())
	if err := in.p.random(h.Nonce[:]); err != nil {
		return nil, in.fail(err)
	}
	if h.SID, err = in.p.sessionID(); err != nil {
		return nil, in.fail(err)
	}
	h.NodeID = in.p.NodeID
	h.Suites = in.p.Suites
	h.Timestamp = max(0, now.UnixMilli())
	h.Cookie, h.HasCookie = in.jar.Get(in.peer, now)
	h.PadToFrame(MinHelloFrame)
	in.tr = newTranscript()
	in.tr.add(h.AppendCore(make([]byte, 0, 320)))
	in.out = h.Append(make([]byte, 0, MinHelloPayload))
	in.state = initHello
	in.deadline = now.Add(in.p.Timeout)
	in.armTimer(now)
	in.p.Stats.InitStarted.Add(1)
	return in.out, nil
}

func (in *Initiator) armTimer(now time.Time) {
	in.rto = in.p.InitialRTO
	in.nextRetx = now.Add(in.rto)
}

func (in *Initiator) fail(err error) error {
	in.state, in.err = initFailed, err
	in.priv, in.prk = nil, nil
	return err
}

// Handle processes one handshake payload from the responder. It returns
// the payload to send (nil for none) and done true exactly once, when FINAL
// completes the handshake (then Keys is valid). A dropped message gives a
// non-fatal error (ErrUnexpected, ErrReflection, ErrFinalInvalid, a
// codec.ErrHandshakeMsg error); the fatal errors ErrAuthFailed,
// ErrBadKeyShare, ErrNoCommonSuite (a RESPONSE choosing a suite not
// offered) and a *RejectError (a REJECT echoing the HELLO in flight,
// matching ErrNoCommonSuite or ErrUnsupportedVersion) end the handshake,
// and later calls, and Err, return the same error. A REJECT that does not
// echo the HELLO in flight, arrives after the RESPONSE, or contradicts the
// HELLO is dropped with ErrUnexpected.
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
	case codec.HandshakeFinal:
		done, err = in.handleFinal(msg)
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
	if r.NodeID == in.p.NodeID || r.Eph == in.hello.Eph {
		in.p.Stats.Reflections.Add(1)
		return nil, ErrReflection
	}
	dh, err := sharedSecret(in.priv, &r.Eph)
	if err != nil {
		return nil, in.fail(err)
	}
	in.prk = extract(&in.p.pskHash, dh)
	in.tr.add(r.AppendCore(make([]byte, 0, 320)))
	th := in.tr.sum()
	want := proofMAC(in.prk, labelRespProof, &th)
	if !hmac.Equal(want[:], r.MAC[:]) {
		in.p.Stats.InitAuthFailures.Add(1)
		return nil, in.fail(ErrAuthFailed)
	}
	if in.expect != ([32]byte{}) && r.NodeID != in.expect {
		in.p.Stats.InitWrongPeer.Add(1)
		return nil, in.fail(ErrPeerIdentity)
	}
	if in.p.AllowPeer != nil && !in.p.AllowPeer(r.NodeID) {
		in.p.Stats.PeersRefused.Add(1)
		return nil, in.fail(ErrPeerNotAllowed)
	}
	offered := false
	for _, s := range in.hello.Suites {
		offered = offered || s == r.Suite
	}
	if !offered {
		return nil, in.fail(ErrNoCommonSuite)
	}
	in.resp = r
	a := codec.AuthProof{Echo: r.Nonce}
	in.tr.add(a.AppendCore(make([]byte, 0, 64)))
	th = in.tr.sum()
	a.Proof = proofMAC(in.prk, labelInitProof, &th)
	in.out = a.Append(in.out[:0])
	in.state = initAuth
	in.armTimer(now)
	return in.out, nil
}

func (in *Initiator) handleFinal(msg []byte) (bool, error) {
	var f codec.Final
	if err := f.Decode(msg); err != nil {
		return false, err
	}
	if in.state != initAuth || f.Echo != in.hello.Nonce {
		return false, ErrUnexpected
	}
	tr := in.tr.clone()
	tr.add(f.AppendCore(make([]byte, 0, 64)))
	th := tr.sum()
	want := proofMAC(in.prk, labelFinal, &th)
	if !hmac.Equal(want[:], f.MAC[:]) {
		return false, ErrFinalInvalid
	}
	i2r, r2i := trafficSecrets(in.prk, &th)
	in.keys = Keys{
		Peer:            in.peer,
		PeerNodeID:      in.resp.NodeID,
		LocalSessionID:  in.hello.SID,
		RemoteSessionID: in.resp.SID,
		Suite:           in.resp.Suite,
		Initiator:       true,
		SendSecret:      i2r,
		RecvSecret:      r2i,
	}
	in.state, in.priv, in.prk, in.out = initDone, nil, nil, nil
	in.p.Stats.InitCompleted.Add(1)
	return true, nil
}

// OnTimer advances the retransmission timer to now. It returns the last
// message again when its retransmission time has come (the interval then
// doubles, up to MaxRTO), and ErrHandshakeTimeout (fatal) once Timeout has
// passed since Start. Before Start and after completion it does nothing.
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
	if in.state != initHello && in.state != initAuth {
		return time.Time{}
	}
	if in.nextRetx.Before(in.deadline) {
		return in.nextRetx
	}
	return in.deadline
}

// Done reports whether the handshake completed.
func (in *Initiator) Done() bool { return in.state == initDone }

// Err returns the fatal error that ended the handshake, or nil.
func (in *Initiator) Err() error { return in.err }

// Keys returns the session keys and true once the handshake completed.
func (in *Initiator) Keys() (Keys, bool) { return in.keys, in.state == initDone }
