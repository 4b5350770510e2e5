package streams

import (
	"time"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/internal/streambuf"
)

// HandleControl processes the stream-layer control message at the start of
// b (IsStreamControl(b[0]) must hold) and returns its length. Errors are
// *ProtocolError values. Driver side; it does not allocate.
func (c *Conn) HandleControl(now time.Time, b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	sub := b[0]
	body := b[1:]
	switch sub {
	case codec.ControlAck:
		n, err := codec.ParseAck(body, &c.cack)
		if err != nil {
			return 0, errBadControl
		}
		c.stats.AcksIn.Add(1)
		if err := c.onAck(now); err != nil {
			return 0, err
		}
		return 1 + n, nil
	case codec.ControlFlowCredit:
		var m codec.Control
		n, err := codec.DecodeControl(b, &m)
		if err != nil {
			return 0, errBadControl
		}
		if m.StreamID == 0 {
			c.raiseSession(m.MaxOffset)
			return n, nil
		}
		st, err := c.streamFor(m.StreamID)
		if st == nil {
			return n, err
		}
		if st.sendCredit.Raise(m.MaxOffset) {
			c.activate(st)
			st.writeSig.Notify()
		}
		return n, nil
	case codec.ControlSessionCredit:
		v, n, err := codec.ParseSessionCredit(body)
		if err != nil {
			return 0, errBadControl
		}
		c.raiseSession(v)
		return 1 + n, nil
	case codec.ControlMaxStreams:
		v, n, err := codec.ParseMaxStreams(body)
		if err != nil {
			return 0, errBadControl
		}
		if c.ids.Local.Raise(v) {
			c.openSig.Notify()
		}
		return 1 + n, nil
	case codec.ControlResetStream:
		var m codec.ResetStream
		n, err := codec.ParseResetStream(body, &m)
		if err != nil {
			return 0, errBadControl
		}
		st, err := c.streamFor(m.StreamID)
		if st == nil {
			return 1 + n, err
		}
		grow, rerr := st.recv.Reset(m.FinalSize, uint64(m.Code))
		if rerr == streambuf.ErrFlowControl {
			return 0, errFlowControl
		} else if rerr != nil {
			return 0, errFinalSize
		}
		if st.recvWin.OnReceived(grow) != nil || c.recvWin.OnReceived(grow) != nil {
			return 0, errFlowControl
		}
		st.readSig.Notify()
		c.maybeRetire(st)
		return 1 + n, nil
	case codec.ControlStopSending:
		var m codec.StopSending
		n, err := codec.ParseStopSending(body, &m)
		if err != nil {
			return 0, errBadControl
		}
		st, err := c.streamFor(m.StreamID)
		if st == nil {
			return 1 + n, err
		}
		c.resetSendLocked(st, uint64(m.Code), true)
		return 1 + n, nil
	case codec.ControlPMTUProbe:
		if _, _, err := codec.ParsePMTUProbe(body); err != nil {
			return 0, errBadControl
		}
		return len(b), nil // the padding runs to the end of the payload
	}
	return 0, errBadControl
}

// raiseSession applies a session credit update and reschedules every stream
// that has data waiting (c.mu held).
func (c *Conn) raiseSession(limit uint64) {
	if !c.sendCredit.Raise(limit) {
		return
	}
	for _, st := range c.streams {
		if st.send.Written() > st.send.Sent() || st.send.Closed() {
			c.activate(st)
		}
	}
}
