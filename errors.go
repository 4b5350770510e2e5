package stt

import (
	"errors"

	"github.com/sttgo/stt/internal/session"
)

// Errors. Handshake failures returned by Dial wrap ErrHandshake and the
// handshake package's sentinel (handshake.ErrAuthFailed, ErrHandshakeTimeout,
// ...), so errors.Is works with either.
var (
	// ErrClosed reports use of a closed Node or Session; every *CloseError
	// also matches it with errors.Is.
	ErrClosed = session.ErrClosed
	// ErrBackpressure reports that a send could not be queued; retry later.
	ErrBackpressure = session.ErrBackpressure
	// ErrTooLarge reports a datagram that does not fit in one frame.
	ErrTooLarge = session.ErrTooLarge
	// ErrFrameType reports a custom frame type outside 0x80-0xFF.
	ErrFrameType = session.ErrFrameType
	// ErrDialInProgress reports a Dial to an address this node is already
	// handshaking with.
	ErrDialInProgress = session.ErrDialInProgress
	// ErrTableFull reports that the session table (Config.MaxSessions) is full.
	ErrTableFull = session.ErrTableFull
	// ErrHandshake is wrapped by every handshake failure of Dial.
	ErrHandshake = errors.New("handshake failed")
)

// CloseError is a session's error after a close with a code; Remote tells
// whether the peer sent the SESSION_CLOSE.
type CloseError = session.CloseError
