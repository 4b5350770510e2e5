package recovery

import "errors"

// Errors returned by [Sender]. They are sentinel values, compared with
// [errors.Is]; returning one never allocates.
var (
	// ErrAckInvalid reports an ACK that acknowledges a sequence this side
	// never sent. The session must close with a PROTOCOL error.
	ErrAckInvalid = errors.New("recovery: ack for a sequence never sent")
	// ErrAckMalformed reports an ACK whose ranges are empty, inverted, not
	// strictly descending, or overlapping. The session must close with a
	// PROTOCOL error.
	ErrAckMalformed = errors.New("recovery: malformed ack ranges")
	// ErrHistoryFull reports that the sent history holds Config.MaxTracked
	// frames; the caller must not send until ACKs or losses free entries.
	ErrHistoryFull = errors.New("recovery: sent history full")
	// ErrSeqOrder reports a sent frame whose sequence is not above every
	// sequence sent before.
	ErrSeqOrder = errors.New("recovery: sent sequence not increasing")
)
