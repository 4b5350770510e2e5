package turnconn

import (
	"errors"
	"fmt"
)

// Sentinels for the common TURN error codes; a *ServerError with that
// code matches them with errors.Is.
var (
	// ErrUnauthorized: 401 to a request that carried credentials (wrong
	// username or password for the server's realm). pion/turn's server
	// answers a wrong password with 400 instead (see ErrBadRequest).
	ErrUnauthorized = errors.New("turnconn: unauthorized (401)")
	// ErrBadRequest: 400, a request the server refused as malformed;
	// pion/turn's server also answers wrong credentials so.
	ErrBadRequest = errors.New("turnconn: bad request (400)")
	// ErrForbidden: 403, e.g. a peer address the server does not relay to.
	ErrForbidden = errors.New("turnconn: forbidden (403)")
	// ErrAllocationMismatch: 437, no allocation (or another one) for this
	// client address: the server forgot it (restart, expiry).
	ErrAllocationMismatch = errors.New("turnconn: allocation mismatch (437)")
	// ErrQuota: 486, the user's allocation quota is used up.
	ErrQuota = errors.New("turnconn: allocation quota reached (486)")
	// ErrCapacity: 508, the server has no relay capacity left.
	ErrCapacity = errors.New("turnconn: insufficient capacity (508)")

	// ErrTimeout matches a *TimeoutError.
	ErrTimeout = errors.New("turnconn: TURN server did not answer")
	// ErrNoAllocation: Via, Permit or a write through a synthetic address
	// when the allocation it needs is not (or no longer) live.
	ErrNoAllocation = errors.New("turnconn: no live allocation")
	// ErrNoRoute is returned by WriteBatch for a synthetic address that
	// is not (or no longer) relayed: never created, or its allocation was
	// lost.
	ErrNoRoute = errors.New("turnconn: synthetic address has no relay route")
	// ErrTooManyPeers: Via when MaxPeers synthetic addresses exist.
	ErrTooManyPeers = errors.New("turnconn: relayed peer limit reached")
	// ErrTooBig is returned by WriteBatch for a datagram that does not fit
	// into a UDP datagram once the 4-byte ChannelData header (or the Send
	// indication's 36-48 bytes) is added.
	ErrTooBig = errors.New("turnconn: datagram too big for TURN framing")
	// ErrBadResponse: a TURN response without the attributes its method
	// requires, or with a MESSAGE-INTEGRITY that does not verify.
	ErrBadResponse = errors.New("turnconn: malformed TURN response")
)

// ServerError is an error response of a TURN server.
type ServerError struct {
	Server string // the server's configured Addr
	Method string // the request: Allocate, Refresh, CreatePermission, ChannelBind
	Code   int    // the STUN error code (RFC 8489 §14.8, RFC 8656 §19)
	Reason string // the server's reason phrase
}

func (e *ServerError) Error() string {
	return fmt.Sprintf("turnconn: %s %s: error %d %s", e.Server, e.Method, e.Code, e.Reason)
}

// Is matches the sentinel of e's code.
func (e *ServerError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.Code == 401
	case ErrBadRequest:
		return e.Code == 400
	case ErrForbidden:
		return e.Code == 403
	case ErrAllocationMismatch:
		return e.Code == 437
	case ErrQuota:
		return e.Code == 486
	case ErrCapacity:
		return e.Code == 508
	}
	return false
}

// TimeoutError reports a TURN request that got no answer: the server's
// retransmissions ran out, or the caller's context ended first.
type TimeoutError struct {
	Server string // the server's configured Addr
	Method string
	Err    error // the cause: context.DeadlineExceeded, context.Canceled, or the retransmission failure
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("turnconn: %s %s: no answer from the TURN server: %v", e.Server, e.Method, e.Err)
}

// Unwrap returns the cause.
func (e *TimeoutError) Unwrap() error { return e.Err }

// Is matches ErrTimeout.
func (e *TimeoutError) Is(target error) bool { return target == ErrTimeout }

// Timeout reports true (net.Error's convention).
func (e *TimeoutError) Timeout() bool { return true }
