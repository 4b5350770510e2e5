package streams

import (
	"time"

	"github.com/sttgo/stt/codec"
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
	if perr == streambuf.ErrTooManyGaps && c.growGaps(st) {
		grow, perr = st.recv.Push(off, data, fin)
	}
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
	c.acceptSig.Notify()
	return st, nil
}
