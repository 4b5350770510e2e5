package stt

import (
	"encoding/hex"
	"fmt"

	"github.com/sttgo/stt/identity"

	"github.com/sttgo/stt/codec"
)

// ErrorCode is the code a SESSION_CLOSE carries: why a session ended. Codes
// below 0x100 are the protocol's; an application may close with any other
// value, which reaches the peer unchanged.
type ErrorCode uint64

// Error codes of the protocol (docs/PROTOCOL.md, section 5).
const (
	CodeNoError     ErrorCode = 0x00 // a normal close
	CodeProtocol    ErrorCode = 0x01 // the peer broke the protocol
	CodeCrypto      ErrorCode = 0x02 // key or integrity limits reached
	CodeSession     ErrorCode = 0x03 // refused: table or accept queue full, node closing
	CodeStream      ErrorCode = 0x04 // a stream rule was broken
	CodeFlowControl ErrorCode = 0x05 // the peer sent beyond its credit
	CodeIdleTimeout ErrorCode = 0x06 // nothing heard for Config.IdleTimeout
	// CodePeerUnreachable: nothing acknowledged through six probe
	// timeouts in a row (ErrPeerUnreachable).
	CodePeerUnreachable ErrorCode = 0x07
	// CodeStatelessReset: the peer's node no longer knows the session and
	// said so with a valid stateless reset (ErrStatelessReset). Never sent.
	CodeStatelessReset ErrorCode = 0x08
	// CodeNotAllowed: the peer's allow-list (Config.AllowPeers) does not
	// hold this node's id (ErrPeerNotAllowed).
	CodeNotAllowed ErrorCode = 0x09
	CodeInternal   ErrorCode = 0xFF // a local failure
)

// String returns the code's wire name (NO_ERROR, PROTOCOL, ...) or
// "UNKNOWN" for values without a name.
func (c ErrorCode) String() string { return codec.ErrorCode(c).String() }

// SessionID is the 8-byte id a node picks for each session; every frame to
// that node carries it.
type SessionID [8]byte

// String returns the id in hexadecimal.
func (id SessionID) String() string { return hex.EncodeToString(id[:]) }

// NodeID identifies a node: SHA-256("stt v2 node id" ‖ its static X25519
// public key), the key derived from its node seed (Config.NodeSeed; package
// identity). A peer proves its id in the handshake by using the private
// key; Session.PeerNodeID is never merely claimed.
type NodeID [32]byte

// ParseNodeID parses a node id written as 64 hexadecimal digits (what
// NodeID.String prints and sttnode logs).
func ParseNodeID(s string) (NodeID, error) {
	id, err := identity.ParseID(s)
	if err != nil {
		return NodeID{}, fmt.Errorf("stt: %w", err)
	}
	return NodeID(id), nil
}

// String returns the id in hexadecimal.
func (id NodeID) String() string { return hex.EncodeToString(id[:]) }

// Short returns the first 8 bytes of the id in hexadecimal, for logs.
func (id NodeID) Short() string { return hex.EncodeToString(id[:8]) }
