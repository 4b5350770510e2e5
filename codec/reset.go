package codec

import "errors"

// Stateless reset (docs/PROTOCOL.md, "Stateless reset"). A node that
// receives a protected frame for a session id it does not know answers with
// a datagram shaped like an ordinary AEAD-protected frame: "ST" ‖ body
// length ‖ a 30-byte header the sender fills with unpredictable values ‖
// metadata length 0 ‖ unpredictable bytes ‖ a 16-byte reset token in the
// place of the AEAD tag. Only the session's peer knows the token, so only
// it can tell a reset from a frame of some other session, and nobody who
// does not know the token can make one it accepts.
const (
	// ResetTokenLen is the length of a stateless reset token.
	ResetTokenLen = 16
	// ResetMinRandom is the least number of unpredictable payload bytes
	// before the token.
	ResetMinRandom = 5
	// MinStatelessResetLen is the shortest stateless reset: magic, a
	// one-byte length, the header, a zero metadata length, ResetMinRandom
	// bytes and the token (55 bytes).
	MinStatelessResetLen = MinFrameLen + ResetMinRandom + ResetTokenLen
	// MaxStatelessResetLen is the longest stateless reset (128 bytes: the
	// body length still fits a one-byte varint). Only a frame longer than
	// this is ever answered with a reset, so a reset never answers a reset
	// (no loop between two nodes that both lost a session, no reflection
	// of one forged datagram into many) and is always smaller than the
	// frame that triggered it.
	MaxStatelessResetLen = 128
)

// ResetToken is a stateless reset token.
type ResetToken [ResetTokenLen]byte

// Stateless reset errors.
var (
	// ErrResetSize reports a stateless reset length outside
	// [MinStatelessResetLen, MaxStatelessResetLen].
	ErrResetSize = errors.New("codec: stateless reset length out of range")
	// ErrNotReset reports a frame that cannot be a stateless reset (it has
	// metadata, or its payload is shorter than ResetMinRandom plus the
	// token, or it is longer than MaxStatelessResetLen).
	ErrNotReset = errors.New("codec: frame is not shaped like a stateless reset")
)

// PutStatelessReset turns b, which the caller has filled with unpredictable
// bytes, into a stateless reset of len(b) bytes: it writes the magic, the
// body length, the header h (the caller draws its session id, sequence and
// stream id at random too; the reserved flag 0x80 is cleared), a zero
// metadata length and, in the last ResetTokenLen bytes, the token. The
// payload bytes in between are left as the caller filled them. It returns
// [ErrResetSize] if len(b) is out of range; it never allocates.
func PutStatelessReset(b []byte, h *Header, tok *ResetToken) error {
	if len(b) < MinStatelessResetLen || len(b) > MaxStatelessResetLen {
		return ErrResetSize
	}
	b[0], b[1] = Magic0, Magic1
	b[2] = byte(len(b) - 3) // body length < 128: a one-byte varint
	hh := *h
	hh.Flags &^= 0x80
	hh.Put(b[3:])
	b[3+HeaderLen] = 0 // no metadata
	copy(b[len(b)-ResetTokenLen:], tok[:])
	return nil
}

// StatelessResetToken returns the token a frame would carry if it were a
// stateless reset: the last ResetTokenLen bytes of its payload. It returns
// [ErrNotReset] if f cannot be one (f must come from [Decode]). Whether it
// is one is for the receiver to decide, by comparing the token with the
// tokens of its sessions.
func StatelessResetToken(f *Frame, tok *ResetToken) error {
	if len(f.Metadata) != 0 || len(f.Payload) < ResetMinRandom+ResetTokenLen ||
		f.EncodedLen() > MaxStatelessResetLen {
		return ErrNotReset
	}
	copy(tok[:], f.Payload[len(f.Payload)-ResetTokenLen:])
	return nil
}
