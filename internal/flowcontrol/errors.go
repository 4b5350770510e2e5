package flowcontrol

import "errors"

// Errors.
var (
	// ErrCreditExceeded reports an attempt to send more than the peer's
	// credit allows (a local bug: nothing is consumed).
	ErrCreditExceeded = errors.New("flowcontrol: send credit exceeded")
	// ErrFlowControl reports a peer that sent beyond the limit we
	// advertised: the session closes with FLOW_CONTROL.
	ErrFlowControl = errors.New("flowcontrol: peer exceeded receive limit")
)
