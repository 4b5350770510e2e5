package streams

import (
	"errors"
	"fmt"

	"github.com/sttgo/stt/codec"
)

// Errors of the application side.
var (
	// ErrWriteClosed reports a Write after CloseWrite or Close.
	ErrWriteClosed = errors.New("stt: write on a stream closed for writing")
	// ErrReadClosed reports a Read after CancelRead or Close.
	ErrReadClosed = errors.New("stt: read on a stream closed for reading")
	// ErrConnClosed is the error of a Conn closed without a cause.
	ErrConnClosed = errors.New("stt: session closed")
)

// StreamError reports a stream abandoned with an error code: by the peer
// (RESET_STREAM read by Read, STOP_SENDING seen by Write) when Remote is
// true, or locally (CancelWrite, CancelRead).
type StreamError struct {
	StreamID uint32
	Code     uint64
	Remote   bool
}

// Error describes the reset.
func (e *StreamError) Error() string {
	who := "locally"
	if e.Remote {
		who = "by peer"
	}
	return fmt.Sprintf("stt: stream %d canceled %s with code %d", e.StreamID, who, e.Code)
}

// ProtocolError is what a driver-side method returns when the peer broke
// the protocol: the session must close with Code and Reason.
type ProtocolError struct {
	Code   codec.ErrorCode
	Reason string
}

func (e *ProtocolError) Error() string {
	return fmt.Sprintf("stt: protocol violation (%v): %s", e.Code, e.Reason)
}

// Protocol errors, preallocated so that rejecting a frame never allocates.
var (
	errBadStreamFrame = &ProtocolError{codec.CodeProtocol, "malformed STREAM frame"}
	errBadControl     = &ProtocolError{codec.CodeProtocol, "malformed stream control message"}
	errStreamState    = &ProtocolError{codec.CodeStream, "frame for a stream that was never opened"}
	errStreamLimit    = &ProtocolError{codec.CodeStream, "peer opened more streams than allowed"}
	errFlowControl    = &ProtocolError{codec.CodeFlowControl, "peer exceeded a flow-control limit"}
	errFinalSize      = &ProtocolError{codec.CodeStream, "final size violated"}
	errAck            = &ProtocolError{codec.CodeProtocol, "invalid ACK"}
)
