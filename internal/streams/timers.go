package streams

import "time"

// Deadline returns when the driver must call OnTimeout (and then Poll): the
// ACK delay, loss detection and PTO timers, or the pacer; the zero time if
// none is armed. Driver side.
func (c *Conn) Deadline() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := c.lossTimer()
	if c.ackr.AckPending() {
		d = earliest(d, c.ackr.AckDeadline())
	}
	if !c.pacingAt.IsZero() {
		d = earliest(d, c.pacingAt)
	}
	if !c.creditRetryAt.IsZero() {
		d = earliest(d, c.creditRetryAt) // a credit increase the budget held back
	}
	return d
}

// OnTimeout runs the timers due at now; the driver then calls Poll.
func (c *Conn) OnTimeout(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = now
	if t := c.lossTimer(); !t.IsZero() && !now.Before(t) {
		c.rec.OnTimeout(now, &c.res)
		if len(c.records) > 0 {
			c.applyResult(now)
		}
		c.checkBlackHole(now)
	}
	if !c.pacingAt.IsZero() && !now.Before(c.pacingAt) {
		c.pacingAt = time.Time{}
	}
	if !c.creditRetryAt.IsZero() && !now.Before(c.creditRetryAt) {
		c.creditRetryAt = time.Time{} // Poll tries the credit increase again
	}
}

// Busy reports whether Poll may have something to send at now, or
// WakeWaiters someone to wake. Driver side; a cheap check for sessions that
// never use streams.
func (c *Conn) Busy(now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ackr.AckDue(now) || len(c.active) > 0 || len(c.ctlq) > 0 || c.probes > 0 || len(c.wakeQ) > 0 ||
		c.sessResend || c.maxResend || c.retiredPeer || c.recvWin.UpdateDue()
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}
