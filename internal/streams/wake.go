package streams

// Wake flags of Stream.wake.
const (
	wakeRead uint8 = 1 << iota
	wakeWrite
)

// queueWake records that st's reader or writer may proceed; WakeWaiters
// wakes them once per driver batch instead of once per frame, so a blocked
// Read returns with a batch's worth of bytes, not one frame's (c.mu held).
func (c *Conn) queueWake(st *Stream, what uint8) {
	if st.wake == 0 {
		c.wakeQ = append(c.wakeQ, st)
	}
	st.wake |= what
}

// WakeWaiters wakes the readers and writers that frames handled since the
// last call unblocked. The driver calls it after each batch of received
// frames (and after timers). Driver side; it does not allocate once the
// queue reached the number of streams.
func (c *Conn) WakeWaiters() {
	c.mu.Lock()
	q := c.wakeQ
	c.wakeQ = c.wakeSwap[:0]
	c.wakeSwap = q
	for _, st := range q {
		w := st.wake
		st.wake = 0
		if w&wakeRead != 0 {
			st.readSig.Notify()
		}
		if w&wakeWrite != 0 {
			st.writeSig.Notify()
		}
	}
	clear(q)
	c.wakeDrainLocked()
	c.mu.Unlock()
}
