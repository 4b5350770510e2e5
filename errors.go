package stt

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/sttgo/stt/handshake"
	"github.com/sttgo/stt/internal/session"
	"github.com/sttgo/stt/internal/streams"
)

// Errors of nodes and sessions. Every error the package returns has a
// message starting with "stt:" and matches these with errors.Is where it
// applies.
var (
	// ErrClosed reports use of a closed Node or Session; every *CloseError
	// matches it too.
	ErrClosed = session.ErrClosed
	// ErrBackpressure reports that a send could not be queued: nothing was
	// sent; retry later.
	ErrBackpressure = session.ErrBackpressure
	// ErrTooLarge reports a datagram larger than one frame carries at the
	// session's MTU (see Session.MaxDatagramSize; use a stream).
	ErrTooLarge = session.ErrTooLarge
	// ErrTruncated reports a received datagram longer than the buffer
	// passed to ReceiveDatagram: the buffer holds its first bytes, the rest
	// is lost.
	ErrTruncated = session.ErrTruncated
	// ErrFrameType reports a custom frame type outside 0x80-0xFF.
	ErrFrameType = session.ErrFrameType
	// ErrDialInProgress reports a Dial to an address this node is already
	// handshaking with.
	ErrDialInProgress = session.ErrDialInProgress
	// ErrTableFull reports that the session table (Config.MaxSessions) is
	// full.
	ErrTableFull = session.ErrTableFull
	// ErrWriteClosed reports a Write after CloseWrite or Close.
	ErrWriteClosed = streams.ErrWriteClosed
	// ErrReadClosed reports a Read after CancelRead or Close.
	ErrReadClosed = streams.ErrReadClosed
	// ErrHandshake is matched by every *HandshakeError.
	ErrHandshake = errors.New("stt: handshake failed")
	// ErrPeerUnreachable is matched by the *CloseError of a session that
	// closed itself because the peer acknowledged nothing through six
	// probe timeouts in a row while stream data was in flight (Code
	// CodePeerUnreachable): the peer vanished or the path died. The bound
	// follows the round-trip time (docs/PROTOCOL.md, "Dead peers").
	ErrPeerUnreachable = errors.New("stt: peer unreachable")
	// ErrStatelessReset is matched by the *CloseError of a session whose
	// peer's node answered with a valid stateless reset (Code
	// CodeStatelessReset): it restarted or otherwise lost the session.
	ErrStatelessReset = errors.New("stt: session reset by the peer's node (it no longer knows the session)")
)

// Causes of a *HandshakeError, matched with errors.Is.
var (
	// ErrAuthFailed: the peer could not prove the shared seed (it holds
	// another seed), or a handshake message was tampered with.
	ErrAuthFailed = handshake.ErrAuthFailed
	// ErrHandshakeTimeout: no complete handshake within twice
	// Config.HandshakeTimeout (nothing answers at that address, or the
	// path loses nearly everything).
	ErrHandshakeTimeout = handshake.ErrHandshakeTimeout
	// ErrPeerIdentity: the peer proved another node id than the one
	// DialPeer pinned (it holds the group seed, not that node's key).
	ErrPeerIdentity = handshake.ErrPeerIdentity
	// ErrPeerNotAllowed: the peer's proven node id is not on this node's
	// allow-list (Config.AllowPeers). A *CloseError with CodeNotAllowed
	// from the peer matches it too: this node is not on the peer's list.
	ErrPeerNotAllowed = handshake.ErrPeerNotAllowed
	// ErrNoCommonSuite: the peer accepts none of the offered cipher suites
	// (Config.Suites).
	ErrNoCommonSuite = handshake.ErrNoCommonSuite
)

// HandshakeError is the error of a Dial whose handshake failed. It matches
// ErrHandshake and its cause (ErrAuthFailed, ErrHandshakeTimeout,
// ErrNoCommonSuite, ...) with errors.Is.
type HandshakeError struct {
	// Peer is the address dialed.
	Peer netip.AddrPort
	// Elapsed is the time from the start of Dial to the failure.
	Elapsed time.Duration
	// Err is the cause.
	Err error
}

// Error describes the failure: peer, elapsed time and cause.
func (e *HandshakeError) Error() string {
	return fmt.Sprintf("stt: handshake with %v failed after %v: %v", e.Peer, e.Elapsed.Round(time.Millisecond), e.Err)
}

// Unwrap returns Err.
func (e *HandshakeError) Unwrap() error { return e.Err }

// Is reports whether target is ErrHandshake.
func (e *HandshakeError) Is(target error) bool { return target == ErrHandshake }

// CloseError is a session's error after it was closed with a code: by the
// peer's SESSION_CLOSE (Remote true) or locally (Close, idle timeout, a
// protocol violation of the peer, node shutdown). It matches ErrClosed.
type CloseError struct {
	// Code says why the session ended (CodeNoError for a normal close).
	Code ErrorCode
	// Reason is the human-readable reason sent with the close (at most 256
	// bytes; may be empty).
	Reason string
	// Remote reports whether the peer closed the session.
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

// Is reports whether target is ErrClosed, or ErrPeerUnreachable,
// ErrStatelessReset or ErrPeerNotAllowed for a close with that cause.
func (e *CloseError) Is(target error) bool {
	switch target {
	case ErrClosed:
		return true
	case ErrPeerUnreachable:
		return e.Code == CodePeerUnreachable && !e.Remote
	case ErrStatelessReset:
		return e.Code == CodeStatelessReset && !e.Remote
	case ErrPeerNotAllowed:
		return e.Code == CodeNotAllowed && e.Remote
	}
	return false
}

// StreamError reports a stream canceled with an application error code: by
// the peer (Remote true: its CancelWrite seen by Read, or its CancelRead
// seen by Write) or locally (CancelWrite, CancelRead).
type StreamError struct {
	// StreamID is the canceled stream.
	StreamID uint32
	// Code is the application's error code passed to CancelWrite or
	// CancelRead.
	Code uint64
	// Remote reports whether the peer canceled.
	Remote bool
}

// Error describes the cancellation.
func (e *StreamError) Error() string {
	who := "locally"
	if e.Remote {
		who = "by peer"
	}
	return fmt.Sprintf("stt: stream %d canceled %s with code %d", e.StreamID, who, e.Code)
}

// publicErr maps an error of the layers below to the package's own error
// values and types; errors it does not know (ctx.Err(), io.EOF,
// os.ErrDeadlineExceeded, wrapped socket errors) pass unchanged.
func publicErr(err error) error {
	switch err {
	case nil:
		return nil
	case streams.ErrConnClosed:
		return ErrClosed
	}
	switch e := err.(type) {
	case *session.CloseError:
		return &CloseError{Code: ErrorCode(e.Code), Reason: e.Reason, Remote: e.Remote}
	case *streams.StreamError:
		return &StreamError{StreamID: e.StreamID, Code: e.Code, Remote: e.Remote}
	case *session.HandshakeError:
		return &HandshakeError{Peer: e.Peer, Elapsed: e.Elapsed, Err: e.Err}
	}
	return err
}
