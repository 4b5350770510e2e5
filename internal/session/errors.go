package session

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/sttgo/stt/codec"
)

// Errors of the session layer.
var (
	// ErrClosed reports use of a closed session or node.
	ErrClosed = errors.New("stt: closed")
	// ErrBackpressure reports that a datagram could not be queued (the
	// send buffers or the shard's command ring are full); nothing was
	// queued and the caller may retry.
	ErrBackpressure = errors.New("stt: backpressure (send queue full): retry later")
	// ErrTooLarge reports a datagram that does not fit one frame of the MTU.
	ErrTooLarge = errors.New("stt: datagram larger than one frame at the MTU allows (use a stream)")
	// ErrTruncated reports a received datagram longer than the caller's
	// buffer: the buffer holds its first len(buf) bytes, the rest is lost.
	ErrTruncated = errors.New("stt: datagram truncated: the buffer was smaller than the datagram")
	// ErrFrameType reports a custom frame type outside 0x80-0xFF.
	ErrFrameType = errors.New("stt: custom frame types are 0x80-0xFF")
	// ErrDialInProgress reports a Dial to an address that already has a
	// handshake running from this node.
	ErrDialInProgress = errors.New("stt: a handshake with this address is already running")
	// ErrTableFull reports that the shard's session table is full.
	ErrTableFull = errors.New("stt: session table full (raise Config.MaxSessions)")

	errDialCanceled = errors.New("stt: dial canceled")
)

// HandshakeError is the error of a Dial whose handshake failed: with Peer,
// after Elapsed (from the start of Dial), because of Err (an error of the
// handshake package: ErrAuthFailed, ErrHandshakeTimeout, ...).
type HandshakeError struct {
	Peer    netip.AddrPort
	Elapsed time.Duration
	Err     error
}

// Error describes the failure.
func (e *HandshakeError) Error() string {
	return fmt.Sprintf("stt: handshake with %v failed after %v: %v", e.Peer, e.Elapsed.Round(time.Millisecond), e.Err)
}

// Unwrap returns Err.
func (e *HandshakeError) Unwrap() error { return e.Err }

// CloseError is the error of a session that was closed with a code: by the
// peer's SESSION_CLOSE (Remote true) or locally (Close, idle timeout,
// protocol errors).
type CloseError struct {
	Code   codec.ErrorCode
	Reason string
	Remote bool
}

// Error describes the close.
func (e *CloseError) Error() string {
	side := "locally"
	if e.Remote {
		side = "by peer"
	}
	if e.Reason == "" {
		return fmt.Sprintf("stt: session closed %s: %v", side, e.Code)
	}
	return fmt.Sprintf("stt: session closed %s: %v: %s", side, e.Code, e.Reason)
}

// Is makes errors.Is(err, ErrClosed) true for every CloseError.
func (e *CloseError) Is(target error) bool { return target == ErrClosed }
