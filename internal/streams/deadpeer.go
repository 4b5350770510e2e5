package streams

// ProbeTimeouts returns how many probe timeouts (PTOs) in a row fired since
// the peer last acknowledged a frame: the loss-recovery backoff exponent,
// which an acknowledgment resets to zero. A PTO fires only while
// ack-eliciting frames are in flight, so a session with nothing to deliver
// never counts up. The session layer declares the peer unreachable after
// several (dead-peer detection). Driver side.
func (c *Conn) ProbeTimeouts() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rec.PTOCount()
}
