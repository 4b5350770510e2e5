package handshake

import (
	"bytes"

	"github.com/sttgo/stt/codec"
)

// Resolution is what a node does with a HELLO from an address it has a
// pending initiation to.
type Resolution uint8

// Resolutions of a simultaneous open.
const (
	// KeepInitiator: drop the HELLO and keep the pending initiator (this
	// node's HELLO has the lower nonce).
	KeepInitiator Resolution = iota + 1
	// Respond: hand the HELLO to the Responder (Responder.HandleSimultaneous:
	// this node's HELLO has the higher nonce), and abandon the pending
	// initiator only if the Responder answers with a RESPONSE: its cookie
	// has then proved the address, so a HELLO spoofed from the peer's
	// address cannot cancel the initiation.
	Respond
	// DropReflected: the HELLO carries this node's own nonce.
	DropReflected
)

// String returns the resolution's name.
func (r Resolution) String() string {
	switch r {
	case KeepInitiator:
		return "keep-initiator"
	case Respond:
		return "respond"
	case DropReflected:
		return "drop-reflected"
	}
	return "invalid"
}

// ResolveSimultaneous decides a simultaneous open: own is the nonce of
// this node's pending HELLO, peer the nonce of the HELLO received from the
// address this node is initiating to. The node whose HELLO has the
// lexicographically lower nonce stays initiator, so both sides end with
// exactly one session. (Version 1 compared node ids, which version 2 no
// longer sends in clear; nonces are as good an order, fresh per attempt.)
func ResolveSimultaneous(own, peer [32]byte) Resolution {
	switch c := bytes.Compare(own[:], peer[:]); {
	case c < 0:
		return KeepInitiator
	case c > 0:
		return Respond
	}
	return DropReflected
}

// HelloNonce returns the nonce of a HELLO payload, decoding it strictly
// (a codec.ErrHandshakeMsg error otherwise). It only orders the two sides
// of a simultaneous open.
func HelloNonce(msg []byte) ([32]byte, error) {
	var h codec.Hello
	var suites [codec.HandshakeMaxSuites]uint8
	h.Suites = suites[:0]
	if err := h.Decode(msg); err != nil {
		return [32]byte{}, err
	}
	return h.Nonce, nil
}
