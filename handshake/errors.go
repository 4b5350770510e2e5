package handshake

import "errors"

// Errors returned by the handshake machines. All work with [errors.Is].
// Fatal errors end an [Initiator] (ErrAuthFailed, ErrHandshakeTimeout,
// ErrBadKeyShare, ErrNoCommonSuite from a RESPONSE, a [*RejectError]
// matching ErrNoCommonSuite or ErrUnsupportedVersion from a REJECT); the
// others only mean that one message was dropped.
var (
	// ErrAuthFailed reports a sealed static key, MAC or proof that does
	// not verify: the peer does not hold the same seed, or not the private
	// key of the static key it sent, or the message was tampered with.
	ErrAuthFailed = errors.New("handshake: peer could not prove the shared seed and its node key (wrong seed?)")
	// ErrPeerIdentity reports a responder that proved a node id other
	// than the one the dial expected (pinning): it holds the group seed
	// but not the node key of the id dialed.
	ErrPeerIdentity = errors.New("handshake: peer proved another node id than the one expected")
	// ErrPeerNotAllowed reports a peer whose proven node id is not on this
	// node's allow-list (Config.AllowPeer).
	ErrPeerNotAllowed = errors.New("handshake: peer's node id is not on the allow-list")
	// ErrSameNode reports a peer that proved this node's own static key:
	// two processes run with the same node seed (give each its own).
	ErrSameNode = errors.New("handshake: peer holds this node's own node key (two nodes with one node seed?)")
	// ErrHandshakeTimeout reports that the initiator got no complete
	// handshake within Config.Timeout.
	ErrHandshakeTimeout = errors.New("handshake: timed out")
	// ErrNoCommonSuite reports that no offered cipher suite is supported
	// (the responder answers such a HELLO with a REJECT; the initiator
	// fails with a *RejectError that matches this), or a RESPONSE choosing
	// a suite the initiator did not offer.
	ErrNoCommonSuite = errors.New("handshake: no common cipher suite")
	// ErrUnsupportedVersion reports a peer that does not speak this
	// node's protocol version (the initiator got a REJECT naming another
	// version; the error is a *RejectError that matches this).
	ErrUnsupportedVersion = errors.New("handshake: peer does not speak this protocol version")
	// ErrBadKeyShare reports a peer X25519 public key that gives an
	// all-zero shared secret (a low-order point).
	ErrBadKeyShare = errors.New("handshake: peer ephemeral key rejected")
	// ErrReflection reports a HELLO carrying one of this node's own
	// pending ephemerals, or a RESPONSE carrying the initiator's own.
	ErrReflection = errors.New("handshake: message reflected from this node")
	// ErrUnexpected reports a message that does not fit the machine's
	// state: wrong type for the role, wrong echo, no matching half-open
	// entry, a duplicate, or a retry past the limit.
	ErrUnexpected = errors.New("handshake: unexpected message")
	// ErrReplay reports a HELLO whose nonce already completed a session.
	ErrReplay = errors.New("handshake: replayed HELLO")
	// ErrShortHello reports a HELLO payload smaller than MinHelloPayload
	// (anti-amplification: an unpadded HELLO gets no answer).
	ErrShortHello = errors.New("handshake: HELLO shorter than the minimum datagram size")
	// ErrHalfOpenFull reports that the responder's half-open table, or
	// the share of the HELLO's source prefix in it, is full of entries
	// that outrank the HELLO's (see Responder.Handle).
	ErrHalfOpenFull = errors.New("handshake: half-open table full")
	// ErrOverBudget reports a HELLO refused before any work because the
	// node is under load and its source prefix spent its work budget (see
	// WorkBudget).
	ErrOverBudget = errors.New("handshake: source prefix over its work budget")
	// ErrFinalInvalid reports a FINAL whose MAC does not verify; the
	// initiator drops it and keeps retransmitting AUTH_PROOF.
	ErrFinalInvalid = errors.New("handshake: FINAL authentication failed")
	// ErrState reports a method called in the wrong state (Start twice).
	ErrState = errors.New("handshake: wrong state for this call")
	// ErrConfig reports an invalid Config.
	ErrConfig = errors.New("handshake: invalid config")
)
