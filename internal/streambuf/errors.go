package streambuf

import "errors"

// Errors of SendBuffer and RecvBuffer.
var (
	// ErrClosed reports a Write after Close.
	ErrClosed = errors.New("streambuf: write after close")
	// ErrReset reports an operation on a stream that was reset (locally for
	// a SendBuffer, by the peer's RESET_STREAM for a RecvBuffer).
	ErrReset = errors.New("streambuf: stream reset")
	// ErrFlowControl reports stream data (or a final size) beyond the
	// flow-control limit the receiver advertised: a FLOW_CONTROL error.
	ErrFlowControl = errors.New("streambuf: flow control limit exceeded")
	// ErrFinalSize reports data beyond a known final size, or a final size
	// that changes or lies below data already received (RFC 9000 4.5).
	ErrFinalSize = errors.New("streambuf: final size violated")
	// ErrTooManyGaps reports a frame that would need one more out-of-order
	// range than the buffer tracks. Nothing is stored: the caller must not
	// acknowledge the frame, so that the peer retransmits it later.
	ErrTooManyGaps = errors.New("streambuf: too many out-of-order ranges")
	// ErrLimit reports a SetLimit beyond the buffer's memory (read offset
	// plus capacity).
	ErrLimit = errors.New("streambuf: limit beyond buffer capacity")
	// ErrStale reports a CommitWrite or CommitRead whose WriteSpace or
	// ReadSpace no longer describes the buffer (it moved in between).
	ErrStale = errors.New("streambuf: buffer changed since its space was taken")
)
