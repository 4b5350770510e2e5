package wsconn

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"

	"github.com/sttgo/stt/engine/bufpool"
	"github.com/sttgo/stt/engine/conn"
	"github.com/sttgo/stt/internal/wake"
)

// backend is the transport under a Conn: a gnet connection (the server's
// event loop) or a net.Conn served by two goroutines (TLS servers and
// every dialed connection).
type backend interface {
	// kick schedules a flush of the Conn's send buffer. Any goroutine;
	// never blocks.
	kick()
	// resume makes a connection that starved for receive buffers read
	// again. Any goroutine; never blocks.
	resume()
	// shutdown closes the transport after writing what is queued. Any
	// goroutine; never blocks. The backend then calls Conn.end once.
	shutdown()
}

// Conn is one upgraded WebSocket connection of a Mux.
type Conn struct {
	m      *Mux
	addr   netip.AddrPort
	client bool // we dialed: our frames are masked, the peer's must not be
	be     backend
	dec    decoder      // the reading side's (gnet loop or reader goroutine)
	held   *bufpool.Buf // reading side: a buffer waited for while starved

	starving bool // under m.starveMu

	mu        sync.Mutex
	out       []byte // frames waiting for the backend's flush
	spare     []byte // the other buffer (swapped by takeOut)
	pending   bool   // a flush is scheduled
	closing   bool   // a close frame is queued: no more data
	err       error  // why the connection ends (first cause)
	rng       *mrand.ChaCha8
	lastFlush int64       // unix nanoseconds of the last putBack
	space     wake.Signal // writers waiting for room in out
	ended     atomic.Bool
	lastRecv  atomic.Int64 // unix nanoseconds of the last bytes received
}

func newConn(m *Mux, client bool) *Conn {
	c := &Conn{m: m, client: client}
	c.dec = decoder{server: !client, limit: m.cfg.MaxMessage}
	c.space.Init()
	if client {
		var seed [32]byte
		_, _ = rand.Read(seed[:])
		c.rng = mrand.NewChaCha8(seed)
	}
	c.touch()
	return c
}

// Addr returns the connection's synthetic address.
func (c *Conn) Addr() netip.AddrPort { return c.addr }

func (c *Conn) touch() { c.lastRecv.Store(time.Now().UnixNano()) }

// sink, for the decoder.

func (c *Conn) buffer() *bufpool.Buf {
	if b := c.held; b != nil {
		c.held = nil
		return b
	}
	return c.m.pool.Get()
}

func (c *Conn) deliver(b *bufpool.Buf) {
	b.Addr = c.addr
	c.m.push(b)
}

func (c *Conn) control(op ws.OpCode, p []byte) bool {
	switch op {
	case ws.OpPing:
		_ = c.write(ws.OpPong, p, false)
	case ws.OpClose:
		code, reason := ws.StatusNoStatusRcvd, ""
		if len(p) >= 2 {
			code, reason = ws.StatusCode(binary.BigEndian.Uint16(p)), string(p[2:])
		}
		c.setErr(fmt.Errorf("%w: close frame %d %q", ErrPeerClosed, code, reason))
		echo := code
		if code == ws.StatusNoStatusRcvd {
			echo = ws.StatusNormalClosure
		}
		c.queueClose(echo, "")
		c.be.shutdown()
		return false
	}
	return true
}

// setErr records why the connection ends, if nothing did before.
func (c *Conn) setErr(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.mu.Unlock()
}

// sendMessage frames m (each segment of a segmented Message) as binary
// messages.
func (c *Conn) sendMessage(m *conn.Message) error {
	p := m.Buf[:m.N]
	seg := m.SegSize
	if seg <= 0 || seg >= len(p) {
		return c.write(ws.OpBinary, p, true)
	}
	for off := 0; off < len(p); off += seg {
		if err := c.write(ws.OpBinary, p[off:min(off+seg, len(p))], true); err != nil {
			return err
		}
	}
	return nil
}

// write queues one frame. With wait set it waits (at most WriteTimeout)
// for room when MaxBuffered bytes are queued, and then closes the
// connection (ErrWriteTimeout); without, a full buffer drops the frame
// (pongs: the peer pings again).
func (c *Conn) write(op ws.OpCode, p []byte, wait bool) error {
	c.mu.Lock()
	var deadline time.Time
	for c.err == nil && !c.closing && len(c.out) > 0 && len(c.out)+len(p)+maxHeaderLen > c.m.cfg.MaxBuffered {
		if !wait {
			c.mu.Unlock()
			return nil
		}
		now := time.Now()
		if deadline.IsZero() {
			deadline = now.Add(c.m.cfg.WriteTimeout)
		}
		if !now.Before(deadline) {
			c.mu.Unlock()
			c.abort(ErrWriteTimeout)
			return ErrWriteTimeout
		}
		c.space.Prepare()
		c.mu.Unlock()
		t := time.NewTimer(deadline.Sub(now))
		select {
		case <-c.space.C():
		case <-t.C:
		case <-c.m.done:
		}
		t.Stop()
		c.space.Cancel()
		c.mu.Lock()
	}
	if c.err != nil || c.closing {
		err := c.err
		c.mu.Unlock()
		if err == nil {
			err = ErrNoConn
		}
		return err
	}
	c.appendFrame(op, p)
	kick := !c.pending
	c.pending = true
	c.mu.Unlock()
	if op == ws.OpBinary {
		c.m.ctr.msgsOut.Add(1)
	}
	if kick {
		c.be.kick()
	}
	return nil
}

// appendFrame appends one final frame to c.out, masked if c is a client
// (c.mu held).
func (c *Conn) appendFrame(op ws.OpCode, p []byte) {
	var mask [4]byte
	if c.client {
		binary.LittleEndian.PutUint32(mask[:], uint32(c.rng.Uint64()))
	}
	c.out = appendHeader(c.out, op, len(p), c.client, mask)
	start := len(c.out)
	c.out = append(c.out, p...)
	if c.client {
		ws.Cipher(c.out[start:], mask, 0)
	}
}

// queueClose queues a close frame with code and reason (once); later
// writes fail.
func (c *Conn) queueClose(code ws.StatusCode, reason string) {
	var body [maxControlPayload]byte
	binary.BigEndian.PutUint16(body[:], uint16(code))
	n := 2 + copy(body[2:], reason)
	c.mu.Lock()
	if !c.closing {
		c.closing = true
		c.appendFrame(ws.OpClose, body[:n])
		c.pending = true
	}
	c.mu.Unlock()
	c.space.Notify()
}

// takeOut returns the queued frames for the backend to write, and gives
// back the spare buffer for new frames. The backend calls putBack after
// the write.
func (c *Conn) takeOut() []byte {
	c.mu.Lock()
	b := c.out
	c.out, c.spare = c.spare, nil
	c.pending = false
	c.mu.Unlock()
	c.space.Notify()
	return b
}

// putBack returns the buffer takeOut gave (written) for reuse: a busy
// connection alternates two buffers, allocation-free. They are bounded by
// MaxBuffered plus a frame; trim drops them when the connection idles.
func (c *Conn) putBack(b []byte) {
	c.mu.Lock()
	if c.spare == nil {
		c.spare = b[:0]
	}
	c.lastFlush = time.Now().UnixNano()
	c.mu.Unlock()
}

// trimAfter is how long a connection sends nothing before trim drops its
// send buffers.
const trimAfter = 5 * time.Second

// trim drops the send buffers of a connection that has sent nothing for
// trimAfter, so that idle connections hold no send memory.
func (c *Conn) trim(now time.Time) {
	c.mu.Lock()
	if len(c.out) == 0 && !c.pending && now.UnixNano()-c.lastFlush > int64(trimAfter) {
		c.out, c.spare = nil, nil
	}
	c.mu.Unlock()
}

// abort ends the connection from any goroutine: a close frame (for a
// *ProtocolError its code, else 1000 or 1001), then the transport closes.
func (c *Conn) abort(err error) {
	c.setErr(err)
	code, reason := closeStatus(err)
	if code != ws.StatusGoingAway {
		c.m.ctr.protoErrs.Add(1)
	}
	c.queueClose(code, reason)
	c.be.kick()
	c.be.shutdown()
}

// closeNormal closes with 1000 (normal closure).
func (c *Conn) closeNormal() {
	c.setErr(ErrClosed)
	c.queueClose(ws.StatusNormalClosure, "")
	c.be.kick()
	c.be.shutdown()
}

// ErrClosed ends a connection this side closed (CloseConn, Mux.Close).
var ErrClosed = fmt.Errorf("wsconn: connection closed locally")

// end is called once by the backend when the transport has closed; cause
// is its error (nil for a close this side started).
func (c *Conn) end(cause error) {
	if !c.ended.CompareAndSwap(false, true) {
		return
	}
	c.mu.Lock()
	if c.err == nil {
		if cause == nil {
			c.err = fmt.Errorf("%w (TCP closed)", ErrPeerClosed)
		} else {
			c.err = fmt.Errorf("%w (TCP: %v)", ErrPeerClosed, cause)
		}
	}
	c.closing = true
	err := c.err
	c.mu.Unlock()
	c.space.Notify()
	c.m.unregister(c, err)
}

// Err returns why the connection ended, or nil while it is open.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.ended.Load() {
		return nil
	}
	return c.err
}

// closeStatus returns the close code and reason for err: a
// *ProtocolError's, else 1001 (going away).
func closeStatus(err error) (ws.StatusCode, string) {
	var pe *ProtocolError
	if errors.As(err, &pe) {
		return pe.Code, pe.Reason
	}
	return ws.StatusGoingAway, ""
}

// hasWork reports whether frames are queued or the connection is closing.
func (c *Conn) hasWork() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pending || len(c.out) > 0
}
