package streams

import (
	"time"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/internal/congestion"
	"github.com/sttgo/stt/internal/recovery"
	"github.com/sttgo/stt/internal/streambuf"
	"github.com/sttgo/stt/internal/streamid"
)

// OnReceived records the authenticated frame with sequence seq for
// acknowledgement; ackEliciting is true for STREAM frames and CONTROL frames
// with a message other than ACK (see IsAckEliciting). Call it after
// HandleStream or HandleControl accepted the frame (not when HandleStream
// reported Dropped). Driver side; it takes no lock (the ACK state is the
// driver's alone) and does not allocate.
func (c *Conn) OnReceived(now time.Time, seq uint64, ackEliciting bool) {
	c.ackr.OnReceived(now, seq, ackEliciting)
}

// IsAckEliciting reports whether a control message of subtype sub asks for
// an acknowledgement: everything but ACK and the session layer's PONG,
// KEY_ROTATION and SESSION_CLOSE, which have their own repair mechanisms.
func IsAckEliciting(sub uint8) bool {
	switch sub {
	case codec.ControlAck, codec.ControlPong, codec.ControlKeyRotation, codec.ControlSessionClose:
		return false
	}
	return true
}

// IsStreamControl reports whether control subtype sub belongs to the stream
// layer (HandleControl decodes it).
func IsStreamControl(sub uint8) bool {
	switch sub {
	case codec.ControlFlowCredit, codec.ControlAck, codec.ControlResetStream, codec.ControlStopSending,
		codec.ControlMaxStreams, codec.ControlSessionCredit, codec.ControlPMTUProbe:
		return true
	}
	return false
}

// HandleStream processes the plaintext payload of an authenticated STREAM
// frame on stream id with header flags. It returns dropped true if the
// frame was not stored and must not be acknowledged (too many gaps: the
// peer will retransmit), and a *ProtocolError if the peer broke the
// protocol (the session must close with its code). Driver side.
func (c *Conn) HandleStream(now time.Time, id uint32, flags uint8, payload []byte) (dropped bool, err error) {
	off, data, perr := codec.ParseStreamPayload(payload)
	if perr != nil || codec.CheckStreamFrame(id, flags, off, len(data)) != nil {
		return false, errBadStreamFrame
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	st, err := c.streamFor(id)
	if st == nil {
		return false, err
	}
	fin := flags&codec.FlagStreamEnd != 0
	grow, perr := st.recv.Push(off, data, fin)
	switch perr {
	case nil:
	case streambuf.ErrTooManyGaps:
		c.stats.DropGaps.Add(1)
		return true, nil
	case streambuf.ErrFlowControl:
		return false, errFlowControl
	default:
		return false, errFinalSize
	}
	if st.recvWin.OnReceived(grow) != nil || c.recvWin.OnReceived(grow) != nil {
		return false, errFlowControl
	}
	c.stats.StreamFramesIn.Add(1)
	c.stats.StreamBytesIn.Add(uint64(len(data)))
	if st.readCanceled {
		c.discardLocked(st)
		c.maybeRetire(st)
		return false, nil
	}
	if st.recv.Readable() > 0 || fin {
		c.queueWake(st, wakeRead)
	}
	return false, nil
}

// streamFor returns the stream of a frame, creating the peer's streams it
// opens, or nil for a stream already retired (the frame is a late
// duplicate: ignore it). c.mu held.
func (c *Conn) streamFor(id uint32) (*Stream, error) {
	if st := c.streams[id]; st != nil {
		return st, nil
	}
	opens, err := c.ids.Receive(id)
	switch err {
	case nil:
	case streamid.ErrLimit:
		return nil, errStreamLimit
	case streamid.ErrZero:
		return nil, errBadControl
	default:
		return nil, errStreamState
	}
	if opens == 0 {
		return nil, nil // retired
	}
	first := id - 2*uint32(opens-1)
	var st *Stream
	for sid := first; ; sid += 2 {
		st = c.newStream(sid, false)
		c.acceptQ = append(c.acceptQ, st)
		if sid == id {
			break
		}
	}
	signal(c.acceptCh)
	return st, nil
}

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
			signal(st.writeCh)
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
			signal(c.openCh)
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
		signal(st.readCh)
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

// onAck processes the ACK in c.cack (c.mu held).
func (c *Conn) onAck(now time.Time) error {
	c.rack.Delay = time.Duration(c.cack.Delay) * time.Microsecond
	c.rack.Ranges = c.rack.Ranges[:0]
	for _, rg := range c.cack.Ranges[:c.cack.N] {
		c.rack.Ranges = append(c.rack.Ranges, recovery.AckRange{Smallest: rg.Smallest, Largest: rg.Largest})
	}
	if err := c.rec.OnAck(now, &c.rack, &c.res); err != nil {
		return errAck
	}
	c.applyResult(now)
	return nil
}

// applyResult applies what loss detection found: lost frames are queued
// again, acknowledged ones free their data, congestion control learns both
// (c.mu held).
func (c *Conn) applyResult(now time.Time) {
	res := &c.res
	mask := uint64(len(c.records) - 1)
	kept := res.Lost[:0]
	for _, lf := range res.Lost {
		r := &c.records[lf.Handle&mask]
		c.requeue(r)
		if r.kind == kindProbe {
			continue // a lost PMTU probe is not a congestion signal
		}
		c.stats.LostFrames.Add(1)
		kept = append(kept, lf)
	}
	res.Lost = kept
	congestion.Apply(c.cc, now, res)
	for i := range res.Acked {
		r := &c.records[res.Acked[i].Handle&mask]
		switch r.kind {
		case kindStream:
			st := r.st
			if !st.retired && st.resetState == resetNone {
				st.send.OnAck(r.chunk)
				c.queueWake(st, wakeWrite)
				if st.send.Done() {
					c.maybeRetire(st)
				}
			}
		case kindProbe:
			c.onProbeResult(r.chunk.N, true)
		case kindCtl:
			for _, it := range r.items[:r.n] {
				if it.kind == itemReset {
					if st := c.streams[it.id]; st != nil && st.resetState == resetSent {
						st.resetState = resetAcked
						c.maybeRetire(st)
					}
				}
			}
		}
		*r = record{} // drop the stream pointer
	}
	if res.Probes > c.probes {
		c.probes = res.Probes
	}
	c.publish()
}

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
			signal(st.readCh)
		}
		if w&wakeWrite != 0 {
			signal(st.writeCh)
		}
	}
	clear(q)
	c.mu.Unlock()
}

// Deadline returns when the driver must call OnTimeout (and then Poll): the
// ACK delay, loss detection and PTO timers, or the pacer; the zero time if
// none is armed. Driver side.
func (c *Conn) Deadline() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := c.rec.Timer()
	if c.ackr.AckPending() {
		d = earliest(d, c.ackr.AckDeadline())
	}
	if !c.pacingAt.IsZero() {
		d = earliest(d, c.pacingAt)
	}
	return d
}

// OnTimeout runs the timers due at now; the driver then calls Poll.
func (c *Conn) OnTimeout(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = now
	if t := c.rec.Timer(); !t.IsZero() && !now.Before(t) {
		c.rec.OnTimeout(now, &c.res)
		if len(c.records) > 0 {
			c.applyResult(now)
		}
		c.checkBlackHole(now)
	}
	if !c.pacingAt.IsZero() && !now.Before(c.pacingAt) {
		c.pacingAt = time.Time{}
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
