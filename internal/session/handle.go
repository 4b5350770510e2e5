package session

import (
	"context"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/handshake"
	"github.com/sttgo/stt/internal/streams"
)

// State is a session's life-cycle state (see the package documentation for
// the transitions).
type State uint32

// Session states.
const (
	Handshaking State = iota
	Established
	Closing
	Closed
)

// String returns the state's name.
func (s State) String() string {
	switch s {
	case Handshaking:
		return "handshaking"
	case Established:
		return "established"
	case Closing:
		return "closing"
	case Closed:
		return "closed"
	}
	return "unknown"
}

// Session is the application's handle on one secure session. Its methods
// are safe for concurrent use. It holds what application goroutines and
// the owning shard share, each field either immutable once the session is
// established or synchronised (atomics, the datagram queue's lock, the
// stream layer's lock, the done channel); the protocol state lives in the
// shard-owned [sessionState], which application goroutines reach only
// through commands.
type Session struct {
	node  *Node
	shard int
	st    *sessionState // shard goroutine only; never dereferenced by the methods below

	// Set once when established, then read-only.
	keys       handshake.Keys
	q          *dgramQueue
	conn       *streams.Conn    // the stream layer (its own lock)
	maxPayload int              // largest datagram payload at the base MTU
	resetTok   codec.ResetToken // the token a stateless reset for this session carries

	state    atomic.Uint32
	peer     atomic.Pointer[netip.AddrPort] // changes only when a new address passes path validation
	stats    Stats
	flushReq atomic.Bool // queued in the node's flush requests

	doneOnce sync.Once
	done     chan struct{}
	err      error // set before done is closed
}

// LocalID returns the session id this node chose (frames to it carry it).
func (s *Session) LocalID() codec.SessionID { return s.keys.LocalSessionID }

// RemoteID returns the session id the peer chose.
func (s *Session) RemoteID() codec.SessionID { return s.keys.RemoteSessionID }

// RemoteAddr returns the peer's validated address (path.go).
func (s *Session) RemoteAddr() netip.AddrPort { return *s.peer.Load() }

// LocalAddr returns the node's bound address.
func (s *Session) LocalAddr() netip.AddrPort { return s.node.localAddr() }

// SuiteID returns the negotiated cipher suite id.
func (s *Session) SuiteID() uint8 { return s.keys.Suite }

// PeerNodeID returns the peer's node id, proven by its static key in the
// handshake.
func (s *Session) PeerNodeID() [32]byte { return s.keys.PeerNodeID }

// Resumed reports whether the handshake resumed with a ticket.
func (s *Session) Resumed() bool { return s.keys.Resumed }

// Initiator reports whether this side dialed.
func (s *Session) Initiator() bool { return s.keys.Initiator }

// State returns the current state.
func (s *Session) State() State { return State(s.state.Load()) }

// Stats returns the session's live counters (read them with Load).
func (s *Session) Stats() *Stats { return &s.stats }

// Streams returns the session's stream layer.
func (s *Session) Streams() *streams.Conn { return s.conn }

// MaxDatagram returns the largest datagram payload SendDatagram accepts.
func (s *Session) MaxDatagram() int { return s.maxPayload }

// Done is closed when the session leaves Established (Closing or Closed).
func (s *Session) Done() <-chan struct{} { return s.done }

// Err returns why the session ended (a *CloseError or a handshake error), or
// nil while it is open.
func (s *Session) Err() error {
	select {
	case <-s.done:
		return s.err
	default:
		return nil
	}
}

// SendDatagram queues p (copied) for sealing and sending on stream streamID
// as a DATA frame. It returns ErrBackpressure when the send buffers or the
// shard's command ring are full, ErrTooLarge when p does not fit one frame,
// and the session's error once it is closed. Delivery is not guaranteed.
func (s *Session) SendDatagram(streamID uint32, p []byte) error {
	return s.sendTyped(codec.TypeData, streamID, p)
}

// SendFrame is SendDatagram for a custom frame type (0x80-0xFF), delivered
// to the peer's handler for that type.
func (s *Session) SendFrame(frameType uint8, streamID uint32, p []byte) error {
	if frameType < codec.TypeCustomMin {
		return ErrFrameType
	}
	return s.sendTyped(frameType, streamID, p)
}

func (s *Session) sendTyped(t uint8, streamID uint32, p []byte) error {
	if err := s.Err(); err != nil {
		return err
	}
	if len(p) > s.maxPayload {
		return ErrTooLarge
	}
	buf, ok := s.node.sendBufs.get()
	if !ok {
		return ErrBackpressure
	}
	buf = buf[:copy(buf[:cap(buf)], p)]
	if !s.node.post(s.shard, command{op: opSend, s: s, buf: buf, frameType: t, stream: streamID}) {
		s.node.sendBufs.put(buf)
		return ErrBackpressure
	}
	return nil
}

// ReceiveDatagram copies the next received datagram into buf and returns
// the number of bytes copied and its stream id. A datagram longer than buf
// is truncated to len(buf) and reported with ErrTruncated (n == len(buf);
// the rest is discarded). It blocks until a datagram arrives, ctx ends
// (ctx.Err()) or the session closes (its error, after the datagrams already
// queued).
func (s *Session) ReceiveDatagram(ctx context.Context, buf []byte) (int, uint32, error) {
	return s.q.wait(ctx, buf, s.Err)
}

// RotateKeys asks the shard to rotate the send keys now (if the peer has
// confirmed the current phase; otherwise as soon as it has).
func (s *Session) RotateKeys() error {
	if err := s.Err(); err != nil {
		return err
	}
	if !s.node.post(s.shard, command{op: opRotate, s: s}) {
		return ErrBackpressure
	}
	return nil
}

// Close sends SESSION_CLOSE(code, reason) and ends the session. It returns
// ErrBackpressure if the shard's command ring is full, and nil (doing
// nothing) if the session is already closed.
func (s *Session) Close(code codec.ErrorCode, reason string) error {
	if s.Err() != nil {
		return nil
	}
	if len(reason) > codec.MaxReasonLen {
		reason = reason[:codec.MaxReasonLen]
	}
	if !s.node.post(s.shard, command{op: opClose, s: s, code: code, reason: reason}) {
		return ErrBackpressure
	}
	return nil
}

// Shutdown closes the session gracefully: it waits until the peer has
// acknowledged every byte written to the session's streams (and every FIN),
// then sends SESSION_CLOSE(NO_ERROR, reason). If ctx ends first it returns
// ctx.Err() and leaves the session open (call Close to end it at once);
// if the session ends meanwhile it returns the session's error.
func (s *Session) Shutdown(ctx context.Context, reason string) error {
	if err := s.Err(); err != nil {
		return err
	}
	if err := s.conn.WaitDrained(ctx); err != nil {
		if serr := s.Err(); serr != nil {
			return serr
		}
		return err
	}
	return s.Close(codec.CodeNoError, reason)
}

// Phases returns the send and receive key phases (shard-goroutine state:
// only meaningful when the session is quiescent, e.g. in tests).
func (s *Session) Phases() (send, recv uint64) {
	ch := make(chan [2]uint64, 1)
	if !s.node.post(s.shard, command{op: opPhases, s: s, phases: ch}) {
		return 0, 0
	}
	select {
	case p := <-ch:
		return p[0], p[1]
	case <-s.node.closed:
		return 0, 0
	}
}

// OpenStream opens a reliable stream (see streams.Conn.OpenStream).
func (s *Session) OpenStream(ctx context.Context) (*streams.Stream, error) {
	if err := s.Err(); err != nil {
		return nil, err
	}
	return s.conn.OpenStream(ctx)
}

// AcceptStream returns the next stream the peer opened.
func (s *Session) AcceptStream(ctx context.Context) (*streams.Stream, error) {
	if err := s.Err(); err != nil {
		return nil, err
	}
	return s.conn.AcceptStream(ctx)
}

// finish records err, enters st and closes done (once).
func (s *Session) finish(st State, err error) {
	s.state.Store(uint32(st))
	s.doneOnce.Do(func() {
		s.err = err
		close(s.done)
		// Release the buffers nobody can read any more and every
		// budget charge now, not when the last timer entry lets go.
		if s.conn != nil {
			s.conn.Close(err)
		}
		if s.q != nil {
			s.q.release()
		}
		s.node.intro.forget(s)
		if f := s.node.cfg.PeerGone; f != nil {
			f(s.RemoteAddr())
		}
	})
}
