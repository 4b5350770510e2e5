package session

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/handshake"
	"github.com/sttgo/stt/internal/streams"
	"github.com/sttgo/stt/suite"
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

// Errors of the session layer.
var (
	// ErrClosed reports use of a closed session or node.
	ErrClosed = errors.New("stt: closed")
	// ErrBackpressure reports that a datagram could not be queued (the
	// send buffers or the shard's command ring are full); nothing was
	// queued and the caller may retry.
	ErrBackpressure = errors.New("stt: backpressure (send queue full)")
	// ErrTooLarge reports a datagram that does not fit one frame of the MTU.
	ErrTooLarge = errors.New("stt: datagram larger than the MTU allows")
	// ErrFrameType reports a custom frame type outside 0x80-0xFF.
	ErrFrameType = errors.New("stt: custom frame types are 0x80-0xFF")
	// ErrDialInProgress reports a Dial to an address that already has a
	// handshake running from this node.
	ErrDialInProgress = errors.New("stt: a handshake with this address is already running")
	// ErrTableFull reports that the shard's session table is full.
	ErrTableFull = errors.New("stt: session table full")
)

// CloseError is the error of a session that was closed with a code: by the
// peer's SESSION_CLOSE (Remote true) or locally (Close, idle timeout,
// protocol errors).
type CloseError struct {
	Code   codec.ErrorCode
	Reason string
	Remote bool
}

// Error describes the close.
func (e *CloseError) Error() string {
	side := "locally"
	if e.Remote {
		side = "by peer"
	}
	if e.Reason == "" {
		return fmt.Sprintf("stt: session closed %s: %v", side, e.Code)
	}
	return fmt.Sprintf("stt: session closed %s: %v: %s", side, e.Code, e.Reason)
}

// Is makes errors.Is(err, ErrClosed) true for every CloseError.
func (e *CloseError) Is(target error) bool { return target == ErrClosed }

// Stats are a session's counters, read atomically.
type Stats struct {
	FramesIn, FramesOut       atomic.Uint64 // authenticated / sealed frames
	BytesIn, BytesOut         atomic.Uint64 // frame bytes
	DatagramsIn, DatagramsOut atomic.Uint64 // application datagrams
	CustomIn, CustomOut       atomic.Uint64 // custom-type frames
	PingsOut, PongsIn         atomic.Uint64
	KeyRotations              atomic.Uint64 // send-direction rotations
	DropQueueFull             atomic.Uint64 // datagram dropped: receive queue full
	DropReplay                atomic.Uint64
	DropTooOld                atomic.Uint64
	DropAuth                  atomic.Uint64
	DropPlaintext             atomic.Uint64
	DropBadMetadata           atomic.Uint64
	DropReservedFlag          atomic.Uint64
	DropUnknownPhase          atomic.Uint64
	DropStream                atomic.Uint64 // STREAM frames not stored (too many gaps; the peer retransmits)
	DropBadControl            atomic.Uint64 // undecodable control message
	DropNoHandler             atomic.Uint64 // custom type without a handler
	DropType                  atomic.Uint64 // unknown frame type
	Migrations                atomic.Uint64 // peer address changes
}

// Each calls fn with every counter's name and value.
func (st *Stats) Each(fn func(name string, v uint64)) {
	fn("frames_in", st.FramesIn.Load())
	fn("frames_out", st.FramesOut.Load())
	fn("bytes_in", st.BytesIn.Load())
	fn("bytes_out", st.BytesOut.Load())
	fn("datagrams_in", st.DatagramsIn.Load())
	fn("datagrams_out", st.DatagramsOut.Load())
	fn("custom_in", st.CustomIn.Load())
	fn("custom_out", st.CustomOut.Load())
	fn("pings_out", st.PingsOut.Load())
	fn("pongs_in", st.PongsIn.Load())
	fn("key_rotations", st.KeyRotations.Load())
	fn("drop_queue_full", st.DropQueueFull.Load())
	fn("drop_replay", st.DropReplay.Load())
	fn("drop_too_old", st.DropTooOld.Load())
	fn("drop_auth", st.DropAuth.Load())
	fn("drop_plaintext", st.DropPlaintext.Load())
	fn("drop_bad_metadata", st.DropBadMetadata.Load())
	fn("drop_reserved_flag", st.DropReservedFlag.Load())
	fn("drop_unknown_phase", st.DropUnknownPhase.Load())
	fn("drop_stream", st.DropStream.Load())
	fn("drop_bad_control", st.DropBadControl.Load())
	fn("drop_no_handler", st.DropNoHandler.Load())
	fn("drop_type", st.DropType.Load())
	fn("migrations", st.Migrations.Load())
}

// Session is one secure session. Its exported methods are safe for
// concurrent use by application goroutines; its protocol state is owned by
// the shard goroutine.
type Session struct {
	node  *Node
	shard int

	// Set once when established, then read-only.
	keys handshake.Keys

	state atomic.Uint32
	peer  atomic.Pointer[netip.AddrPort] // changes only after an authenticated frame
	stats Stats
	q     *recvQueue

	// Owner is free for the layer above (the public stt.Session); set it
	// before the session is handed out.
	Owner any

	doneOnce sync.Once
	done     chan struct{}
	err      error // set before done is closed

	conn       *streams.Conn // the stream layer; set when established
	maxPayload int           // largest frame payload at the base MTU; set when established
	dgMSS      int           // the stream layer's MSS that dgLimit was computed for
	dgLimit    int           // datagram size bound for this session's frames (its path MTU)
	flushReq   atomic.Bool   // queued in the node's flush requests

	// Shard-goroutine state.
	inFlush         bool // queued in the shard's flush queue
	sealer          *suite.Sealer
	opener          *suite.Opener
	init            *handshake.Initiator
	dial            *dialReq
	redialed        bool
	lastSend        time.Time
	lastRecv        time.Time
	phaseStart      time.Time
	phaseFrames     uint64
	phaseBytes      uint64
	rotateWanted    bool
	recvPhase       uint64
	lastKRSent      time.Time
	peerConfirmed   uint64
	graceUntil      time.Time
	drainUntil      time.Time
	closeCode       codec.ErrorCode
	closeReason     string
	pingID          uint64
	timerGen        uint64
	timerAt         int64
	lastCloseResend time.Time
}

// LocalID returns the session id this node chose (frames to it carry it).
func (s *Session) LocalID() codec.SessionID { return s.keys.LocalSessionID }

// RemoteID returns the session id the peer chose.
func (s *Session) RemoteID() codec.SessionID { return s.keys.RemoteSessionID }

// RemoteAddr returns the peer's current address.
func (s *Session) RemoteAddr() netip.AddrPort { return *s.peer.Load() }

// SuiteID returns the negotiated cipher suite id.
func (s *Session) SuiteID() uint8 { return s.keys.Suite }

// PeerNodeID returns the peer's seed-authenticated node id.
func (s *Session) PeerNodeID() [32]byte { return s.keys.PeerNodeID }

// Initiator reports whether this side dialed.
func (s *Session) Initiator() bool { return s.keys.Initiator }

// State returns the current state.
func (s *Session) State() State { return State(s.state.Load()) }

// Stats returns the session's live counters (read them with Load).
func (s *Session) Stats() *Stats { return &s.stats }

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

// ReceiveDatagram copies the next received datagram into buf (truncating it
// to len(buf)) and returns its full length and stream id. It blocks until a
// datagram arrives, ctx ends (ctx.Err()) or the session closes (its error,
// after the datagrams already queued).
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

// finish records err and closes done (once).
func (s *Session) finish(st State, err error) {
	s.state.Store(uint32(st))
	s.doneOnce.Do(func() {
		s.err = err
		close(s.done)
		if s.conn != nil {
			s.conn.Close(err)
		}
	})
}
