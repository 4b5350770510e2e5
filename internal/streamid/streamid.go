// Package streamid allocates stream ids by role and enforces the
// MAX_STREAMS limits of a session (defect D20: the reference lets both
// peers pick odd ids, so their streams collide, and has no limit).
//
// Stream ids are u32. The session's initiator opens odd ids (1, 3, 5, ...)
// and the responder even ids (2, 4, 6, ...); id 0 names the session and is
// never a stream. The n-th stream of a role (n from 1) has ordinal n:
// [Ordinal] maps an id to it. MAX_STREAMS carries a cumulative count of
// ordinals, as in QUIC (RFC 9000 section 4.6): the peer may open the
// streams of its role with ordinals up to that count, and the count only
// grows, as the receiver retires finished streams, so the number of
// concurrently open peer streams stays bounded by the initial limit.
//
// No I/O, no allocation, errors are unwrapped sentinels, not safe for
// concurrent use.
package streamid

import "errors"

// Role is the local side's role in the session's handshake.
type Role uint8

// Roles.
const (
	Initiator Role = 1 // opens odd stream ids
	Responder Role = 2 // opens even stream ids
)

// MaxCount is the largest number of streams one role can open: the
// responder's even ids end at 2^32-2, and both roles get the same count
// (codec.MaxStreamCount).
const MaxCount = 1<<31 - 1

// Errors.
var (
	// ErrZero reports stream id 0 where a stream is required.
	ErrZero = errors.New("streamid: stream id 0")
	// ErrBadRole reports a Role that is neither Initiator nor Responder.
	ErrBadRole = errors.New("streamid: invalid role")
	// ErrBlocked reports Open at the peer's MAX_STREAMS limit: wait for
	// the peer to raise it.
	ErrBlocked = errors.New("streamid: stream limit reached")
	// ErrExhausted reports Open after all ids of the role were used.
	ErrExhausted = errors.New("streamid: stream ids exhausted")
	// ErrLimit reports a peer stream above the limit we granted (the
	// session closes with a STREAM error).
	ErrLimit = errors.New("streamid: peer exceeded stream limit")
	// ErrNotOpened reports a frame for a stream of our own role that we
	// never opened.
	ErrNotOpened = errors.New("streamid: stream of local role not opened")
)

// Peer returns the other role.
func (r Role) Peer() Role { return 3 - r }

// Owns reports whether streams of role r have id id (odd for Initiator,
// even for Responder; never id 0).
func (r Role) Owns(id uint32) bool {
	if id == 0 {
		return false
	}
	return (id&1 == 1) == (r == Initiator)
}

// Ordinal returns the position of id among the ids of its role: 1 for ids
// 1 and 2, 2 for ids 3 and 4, and so on (0 for id 0).
func Ordinal(id uint32) uint64 { return (uint64(id) + 1) / 2 }

// ID returns the id of the n-th stream (n from 1 to MaxCount) of role r.
func (r Role) ID(n uint64) uint32 {
	if r == Initiator {
		return uint32(2*n - 1)
	}
	return uint32(2 * n)
}
