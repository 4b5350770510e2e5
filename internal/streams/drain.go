package streams

import "context"

// WaitDrained blocks until every byte written to the Conn's streams has
// been acknowledged by the peer (and every FIN of a stream closed for
// writing), ctx ends, or the Conn closes (its error). Streams reset by
// either side count as drained: their unsent bytes are abandoned. A
// graceful close calls it before sending SESSION_CLOSE, so that the peer
// has everything the application wrote. Writes made while it waits are
// waited for too. Application side.
func (c *Conn) WaitDrained(ctx context.Context) error {
	for {
		c.mu.Lock()
		if c.err != nil {
			err := c.err
			c.mu.Unlock()
			return err
		}
		if c.drainedLocked() {
			c.drainWait = false
			c.mu.Unlock()
			return nil
		}
		c.drainWait = true
		c.drainSig.Prepare() // under c.mu, where wakeDrainLocked checks
		c.mu.Unlock()
		select {
		case <-c.drainSig.C():
		case <-c.closed:
		case <-ctx.Done():
			c.drainSig.Cancel()
			return ctx.Err()
		}
		c.drainSig.Cancel()
	}
}

// drainedLocked reports whether no stream holds written bytes the peer has
// not acknowledged (c.mu held).
func (c *Conn) drainedLocked() bool {
	for _, st := range c.streams {
		if st.sendErr != nil {
			continue // reset: nothing more will be delivered
		}
		if st.send.Buffered() > 0 || st.send.Closed() && !st.send.Done() {
			return false
		}
	}
	return true
}

// wakeDrainLocked wakes WaitDrained when it waits and the streams drained
// (c.mu held; called by the driver after each batch, in WakeWaiters).
func (c *Conn) wakeDrainLocked() {
	if c.drainWait && c.drainedLocked() {
		c.drainSig.Notify()
	}
}
