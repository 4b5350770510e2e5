package flowcontrol

// SendCredit tracks the credit the peer granted for one stream or for the
// whole session: Limit is the most the peer allows (a stream offset, or a
// session-wide byte count), Used what we have sent against it. Used never
// exceeds Limit. The zero value has no credit.
type SendCredit struct {
	limit uint64
	used  uint64
}

// Init sets the initial credit (from the handshake's transport parameters
// or the protocol default) and forgets any use.
func (c *SendCredit) Init(limit uint64) { *c = SendCredit{limit: limit} }

// Limit returns the current limit.
func (c *SendCredit) Limit() uint64 { return c.limit }

// Used returns the credit consumed.
func (c *SendCredit) Used() uint64 { return c.used }

// Available returns the credit left.
func (c *SendCredit) Available() uint64 { return c.limit - c.used }

// Blocked reports whether no credit is left: the sender waits for a
// FLOW_CREDIT or SESSION_CREDIT from the peer.
func (c *SendCredit) Blocked() bool { return c.used >= c.limit }

// Consume uses n bytes of credit. It returns [ErrCreditExceeded] and
// consumes nothing if n exceeds Available().
func (c *SendCredit) Consume(n uint64) error {
	if n > c.limit-c.used {
		return ErrCreditExceeded
	}
	c.used += n
	return nil
}

// Raise applies a credit update from the peer. Updates may arrive out of
// order, so a limit at or below the current one is ignored. It reports
// whether the limit grew (a blocked sender may resume).
func (c *SendCredit) Raise(limit uint64) bool {
	if limit <= c.limit {
		return false
	}
	c.limit = limit
	return true
}

// StreamSendLimit returns the stream offset up to which a stream may send
// new data now: its own credit capped by what the session credit allows.
// Pass it as the limit of streambuf.SendBuffer.Next, then Consume the new
// bytes sent on both credits.
func StreamSendLimit(stream, session *SendCredit) uint64 {
	return stream.used + min(stream.Available(), session.Available())
}
