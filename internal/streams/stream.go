package streams

import (
	"io"
	"os"
	"sync"
	"time"

	"github.com/sttgo/stt/internal/flowcontrol"
	"github.com/sttgo/stt/internal/streambuf"
	"github.com/sttgo/stt/internal/wake"
)

// Stream is one reliable, ordered, flow-controlled byte stream in both
// directions. It is an io.ReadWriteCloser; its methods are safe for
// concurrent use (concurrent Writes are serialised, as are concurrent Reads).
type Stream struct {
	c     *Conn
	id    uint32
	local bool // opened by this side

	wmu, rmu sync.Mutex // serialise Writes, Reads

	// Everything below is guarded by c.mu.
	prio uint8

	send       streambuf.SendBuffer
	sendCredit flowcontrol.SendCredit
	sendErr    error // set when the send side was reset (locally or on STOP_SENDING)
	resetCode  uint64
	resetFinal uint64
	resetState uint8 // resetNone, resetQueued, resetSent, resetAcked

	recv         streambuf.RecvBuffer
	recvWin      flowcontrol.RecvWindow
	readCanceled bool
	stopCode     uint64
	stopQueued   bool
	creditResend bool // a FLOW_CREDIT carrying the current limit was lost

	inActive, inCtl, retired bool
	accepted                 bool  // returned by AcceptStream (peer streams)
	creditHeld               bool  // retired before accepted: MAX_STREAMS credit returned at AcceptStream
	charged                  bool  // peerStreamCost is charged to the budget
	gapCharged               int64 // charged for the reassembly gap limit grown (growGaps)
	wake                     uint8 // wakeRead|wakeWrite queued for WakeWaiters

	readDeadline, writeDeadline time.Time
	readSig, writeSig           wake.Signal // "something changed" for a blocked Read, Write
	readTimer, writeTimer       *time.Timer
}

// writeChunk is how many bytes Write copies before it hands them to the
// shard: the first frames of a large Write leave while the rest is copied.
const writeChunk = 16 << 10

const (
	resetNone uint8 = iota
	resetQueued
	resetSent
	resetAcked
)

// ID returns the stream id (odd: opened by the session initiator).
func (st *Stream) ID() uint32 { return st.id }

// Write copies p into the stream's send buffer, blocking while the buffer is
// full (the peer's flow control and the congestion window limit how fast it
// drains). It returns len(p) and nil, or the count written and
// ErrWriteClosed, a *StreamError (the stream was reset), os.ErrDeadlineExceeded
// or the session's error.
func (st *Stream) Write(p []byte) (int, error) {
	st.wmu.Lock()
	defer st.wmu.Unlock()
	c := st.c
	n := 0
	for {
		c.mu.Lock()
		err := st.writeErrLocked()
		if err == nil && !st.writeDeadline.IsZero() && !time.Now().Before(st.writeDeadline) {
			err = os.ErrDeadlineExceeded
		}
		if err != nil {
			c.mu.Unlock()
			return n, err
		}
		if st.send.Free() == 0 {
			st.growSendLocked()
		}
		off := st.send.Written()
		a, b := st.send.WriteSpace(min(len(p)-n, writeChunk))
		deadline := st.writeDeadline
		if len(a)+len(b) == 0 {
			st.writeSig.Prepare() // under c.mu, where acks and credit free space
		}
		c.mu.Unlock()
		if k := len(a) + len(b); k > 0 {
			// Copy without the lock (the free space is the writer's alone;
			// see streambuf.SendBuffer.WriteSpace), then commit.
			copy(a, p[n:])
			copy(b, p[n+len(a):])
			c.mu.Lock()
			if err := st.send.CommitWrite(off, k); err != nil {
				if e := st.writeErrLocked(); e != nil {
					err = e // reset or closed meanwhile
				}
				c.mu.Unlock()
				return n, err
			}
			c.activate(st)
			c.mu.Unlock()
			n += k
			c.cfg.Waker()
			if n == len(p) {
				return n, nil
			}
			continue // more room may be left: copy the next piece first
		}
		if err := st.wait(&st.writeSig, deadline, &st.writeTimer); err != nil {
			return n, err
		}
	}
}

// growSendLocked doubles the send buffer when the peer's credit would let
// more bytes be in flight than it holds (up to the maximum stream window).
func (st *Stream) growSendLocked() {
	cp := st.send.Cap()
	if uint64(cp) >= st.c.cfg.MaxStreamWindow {
		return
	}
	if st.sendCredit.Limit()-st.send.Acked() > uint64(cp) {
		st.send.Grow(int(min(uint64(2*cp), st.c.cfg.MaxStreamWindow)))
	}
}

func (st *Stream) writeErrLocked() error {
	if st.sendErr != nil {
		return st.sendErr
	}
	if st.send.Closed() {
		return ErrWriteClosed
	}
	return st.c.err
}

// Read copies received bytes into p in stream order. It blocks until at
// least one byte is available and returns io.EOF after the peer's
// CloseWrite once everything before it was read. Other errors: a
// *StreamError (reset by the peer), ErrReadClosed (after CancelRead or
// Close), os.ErrDeadlineExceeded, or the session's error.
func (st *Stream) Read(p []byte) (int, error) {
	st.rmu.Lock()
	defer st.rmu.Unlock()
	if len(p) == 0 {
		return 0, nil
	}
	c := st.c
	for {
		c.mu.Lock()
		if st.readCanceled {
			c.mu.Unlock()
			return 0, ErrReadClosed
		}
		off := st.recv.ReadOffset()
		if a, b := st.recv.ReadSpace(len(p)); len(a) > 0 {
			// Copy without the lock (the shard never rewrites readable
			// bytes; see streambuf.RecvBuffer.ReadSpace), then commit.
			c.mu.Unlock()
			n := copy(p, a)
			n += copy(p[n:], b)
			c.mu.Lock()
			if err := st.recv.CommitRead(off, n); err == nil {
				wake := c.consumedLocked(st, n)
				c.mu.Unlock()
				if wake {
					c.cfg.Waker()
				}
				return n, nil
			}
			// Reset by the peer or canceled meanwhile: what was copied is
			// void; the checks below say why.
			if st.readCanceled {
				c.mu.Unlock()
				return 0, ErrReadClosed
			}
		}
		_, err := st.recv.Read(nil) // nothing readable: io.EOF, ErrReset or nil
		if err == io.EOF {
			c.maybeRetire(st)
		} else if err == streambuf.ErrReset {
			code, _ := st.recv.ResetCode()
			err = &StreamError{StreamID: st.id, Code: code, Remote: true}
			c.maybeRetire(st)
		}
		if err == nil {
			if c.err != nil {
				err = c.err
			} else if !st.readDeadline.IsZero() && !time.Now().Before(st.readDeadline) {
				err = os.ErrDeadlineExceeded
			}
		}
		deadline := st.readDeadline
		if err != nil {
			c.mu.Unlock()
			return 0, err
		}
		st.readSig.Prepare() // under c.mu, where received bytes are committed
		c.mu.Unlock()
		if err := st.wait(&st.readSig, deadline, &st.readTimer); err != nil {
			return 0, err
		}
	}
}

// wait blocks until sig is notified, the deadline passes (it then returns
// os.ErrDeadlineExceeded) or the Conn closes (nil: the caller re-checks).
// The caller called sig.Prepare under c.mu after finding nothing to do;
// wait withdraws it.
func (st *Stream) wait(sig *wake.Signal, deadline time.Time, timer **time.Timer) error {
	defer sig.Cancel()
	if deadline.IsZero() {
		select {
		case <-sig.C():
		case <-st.c.closed:
		}
		return nil
	}
	d := time.Until(deadline)
	if d <= 0 {
		return os.ErrDeadlineExceeded
	}
	if *timer == nil {
		*timer = time.NewTimer(d) // once per stream and direction
	} else {
		(*timer).Reset(d)
	}
	select {
	case <-sig.C():
	case <-st.c.closed:
	case <-(*timer).C:
		return os.ErrDeadlineExceeded
	}
	(*timer).Stop()
	return nil
}

// CloseWrite ends the sending direction: the peer reads every byte written
// so far, then io.EOF. Writing afterwards fails with ErrWriteClosed. It does
// not wait for the bytes to be acknowledged.
func (st *Stream) CloseWrite() error {
	c := st.c
	c.mu.Lock()
	if st.sendErr != nil || st.send.Closed() {
		c.mu.Unlock()
		return nil
	}
	st.send.Close()
	c.activate(st)
	c.mu.Unlock()
	c.cfg.Waker()
	st.writeSig.Notify()
	return nil
}

// Close closes the stream in both directions: CloseWrite, and, if the peer
// has not finished sending, CancelRead(0) so that it stops. Reads fail
// afterwards with ErrReadClosed.
func (st *Stream) Close() error {
	st.CloseWrite()
	st.CancelRead(0)
	return nil
}

// CancelWrite abandons the sending direction with an application error
// code: unsent and unacknowledged bytes are dropped and the peer's Read
// returns a *StreamError with that code. It does nothing if every byte and
// the end of the stream were already acknowledged.
func (st *Stream) CancelWrite(code uint64) {
	c := st.c
	c.mu.Lock()
	if !c.resetSendLocked(st, code, false) {
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	c.cfg.Waker()
}

// CancelRead abandons the receiving direction: buffered bytes are dropped,
// later ones are discarded, and the peer is asked (STOP_SENDING) to stop
// sending with code. It does nothing if the stream was already read to its
// end or reset by the peer.
func (st *Stream) CancelRead(code uint64) {
	c := st.c
	c.mu.Lock()
	if st.readCanceled || st.recv.Done() {
		c.mu.Unlock()
		return
	}
	if _, reset := st.recv.ResetCode(); reset {
		st.readCanceled = true
		c.maybeRetire(st)
		c.mu.Unlock()
		return
	}
	st.readCanceled = true
	st.stopCode = code
	st.stopQueued = true
	c.discardLocked(st)
	c.queueCtl(st)
	c.maybeRetire(st)
	c.mu.Unlock()
	c.cfg.Waker()
	st.readSig.Notify()
}

// SetDeadline sets the read and write deadlines (the zero time: none).
func (st *Stream) SetDeadline(t time.Time) error {
	st.SetReadDeadline(t)
	return st.SetWriteDeadline(t)
}

// SetReadDeadline makes blocked and future Reads fail with
// os.ErrDeadlineExceeded once t has passed; the zero time clears it.
func (st *Stream) SetReadDeadline(t time.Time) error {
	st.c.mu.Lock()
	st.readDeadline = t
	st.c.mu.Unlock()
	st.readSig.Notify()
	return nil
}

// SetWriteDeadline is SetReadDeadline for Writes.
func (st *Stream) SetWriteDeadline(t time.Time) error {
	st.c.mu.Lock()
	st.writeDeadline = t
	st.c.mu.Unlock()
	st.writeSig.Notify()
	return nil
}

// SetPriority sets the stream's send priority: frames of a stream with a
// higher value go first; streams of equal priority share the path
// round-robin, one frame each. The default is 128.
func (st *Stream) SetPriority(p uint8) {
	st.c.mu.Lock()
	st.prio = p
	st.c.mu.Unlock()
}
