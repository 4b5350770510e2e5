package streams

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/internal/congestion"
	"github.com/sttgo/stt/internal/flowcontrol"
	"github.com/sttgo/stt/internal/recovery"
	"github.com/sttgo/stt/internal/streambuf"
	"github.com/sttgo/stt/internal/streamid"
	"github.com/sttgo/stt/internal/wake"
)

// Stats are a Conn's counters, read atomically.
type Stats struct {
	StreamFramesOut, StreamFramesIn atomic.Uint64
	StreamBytesOut, StreamBytesIn   atomic.Uint64 // data bytes in STREAM frames (retransmissions included)
	Retransmits                     atomic.Uint64 // STREAM frames carrying data sent before
	RetransmittedBytes              atomic.Uint64
	LostFrames                      atomic.Uint64 // frames declared lost
	SpuriousLosses                  atomic.Uint64 // frames declared lost, then acknowledged (reordered)
	Undos                           atomic.Uint64 // window reductions undone: all their losses were spurious
	AcksOut, AcksIn                 atomic.Uint64
	DropGaps                        atomic.Uint64 // STREAM frames dropped (too many gaps): not acknowledged
	StreamsOpened, StreamsAccepted  atomic.Uint64
	CreditWaits                     atomic.Uint64 // a stream with data blocked by the peer's flow-control credit
	PacingWaits                     atomic.Uint64 // Polls that found the pacer closed
	CwndWaits                       atomic.Uint64 // Polls with data waiting but a full congestion window
	CreditOverruns                  atomic.Uint64 // new bytes sent beyond the peer's credit: always 0 (a bug otherwise)
	CreditWithheld                  atomic.Uint64 // times the node's memory budget began to cap the session credit
}

// Conn is the stream layer of one session (see the package documentation).
type Conn struct {
	cfg Config

	mu      sync.Mutex
	ids     streamid.Table
	streams map[uint32]*Stream

	sendCredit    flowcontrol.SendCredit // session-wide, granted by the peer
	recvWin       flowcontrol.RecvWindow // session-wide, granted to the peer
	streamWindows uint64                 // sum of the open streams' receive windows
	sessResend    bool                   // a SESSION_CREDIT was lost
	maxResend     bool                   // a MAX_STREAMS was lost
	retiredPeer   bool                   // a peer stream was retired: MAX_STREAMS may be due

	// Memory budget (budget.go).
	sessCharged   int64     // charged for session credit beyond the initial window
	strCharged    int64     // charged for peer streams
	gapCharged    int64     // charged for reassembly gap limits grown beyond the initial one
	creditRetryAt time.Time // a withheld credit increase is retried then (zero: none)
	creditRetries int
	creditCapped  bool // the last session credit update was capped by the budget

	// Driver-only state (no application-side method touches it; Snapshot
	// reads the copies publish makes).
	rec   *recovery.Sender
	ackr  *recovery.Receiver
	cc    congestion.Controller
	pacer *congestion.Pacer
	res   recovery.AckResult
	rack  recovery.Ack
	cack  codec.Ack

	records []record // ring of tracked frames' contents, indexed by Handle
	handles uint64

	active []*Stream // streams that may have data to send
	ctlq   []*Stream // streams with a control message to send
	probes int       // PTO probes owed
	// probeOldest: the next probe carries the oldest unacknowledged data
	// (pollOldest), once per probe timeout.
	probeOldest bool

	// Spurious-loss undo (checkUndo): frames declared lost and then
	// acknowledged since the last window reduction.
	undoArmed              bool
	undoLost, undoSpurious int
	pmtu                   pmtuState
	now                    time.Time // the driver's latest time
	pacingAt               time.Time // pacer-blocked until then (zero: not blocked)

	wakeQ, wakeSwap []*Stream // streams whose waiters WakeWaiters wakes

	acceptQ   []*Stream
	acceptSig wake.Signal // "a stream was queued for AcceptStream"
	openSig   wake.Signal // "the peer raised our stream limit"

	drainWait bool        // WaitDrained is waiting (see drain.go)
	drainSig  wake.Signal // "the streams may have drained"

	err       error
	closed    chan struct{}
	closeOnce sync.Once

	stats Stats

	snapRTT, snapCwnd, snapInFlight atomic.Int64 // see publish
}

// NewConn returns the stream layer of a new session.
func NewConn(cfg Config) *Conn {
	cfg.fill()
	c := &Conn{
		cfg:     cfg,
		streams: make(map[uint32]*Stream),
		rec:     recovery.NewSender(recovery.Config{MaxAckDelay: maxAckDelay, MaxTracked: cfg.MaxInFlight}),
		ackr:    recovery.NewReceiver(maxAckDelay),
		pacer:   congestion.NewPacer(cfg.MSS),
		closed:  make(chan struct{}),
	}
	c.acceptSig.Init()
	c.openSig.Init()
	c.drainSig.Init()
	role := streamid.Responder
	if cfg.Initiator {
		role = streamid.Initiator
	}
	c.ids.Init(role, InitialMaxStreams, InitialMaxStreams)
	c.cc = c.newController()
	c.sendCredit.Init(InitialSessionWindow)
	c.recvWin.Init(InitialSessionWindow, cfg.MaxSessionWindow, 0)
	c.recvWin.SetEager(true)
	c.rack.Ranges = make([]recovery.AckRange, 0, recovery.MaxRanges)
	c.pmtu.init(cfg.MSS, cfg.MaxMSS, cfg.Overhead)
	c.now = cfg.Start
	c.publish()
	return c
}

// Stats returns the live counters.
func (c *Conn) Stats() *Stats { return &c.stats }

// Snapshot returns the smoothed RTT, the congestion window and the bytes in
// flight.
func (c *Conn) Snapshot() (srtt time.Duration, cwnd, inFlight int) {
	return time.Duration(c.snapRTT.Load()), int(c.snapCwnd.Load()), int(c.snapInFlight.Load())
}

// publish copies the loss-recovery figures Snapshot reports (driver side):
// rec, ackr and cc are touched only by the driver, so the application side
// reads these copies instead of taking the lock.
func (c *Conn) publish() {
	c.snapRTT.Store(int64(c.rec.RTT().Smoothed()))
	c.snapCwnd.Store(int64(c.cc.Window()))
	c.snapInFlight.Store(int64(c.rec.BytesInFlight()))
}

// OpenStream opens a new stream. The peer learns of it with its first
// frame (the first Write or CloseWrite). It blocks while the peer's stream
// limit is reached, until ctx ends or the Conn closes.
func (c *Conn) OpenStream(ctx context.Context) (*Stream, error) {
	for {
		c.mu.Lock()
		if c.err != nil {
			c.mu.Unlock()
			return nil, c.err
		}
		id, err := c.ids.Local.Open()
		if err == nil {
			st := c.newStream(id, true)
			c.mu.Unlock()
			c.stats.StreamsOpened.Add(1)
			return st, nil
		}
		if err != streamid.ErrBlocked {
			c.mu.Unlock()
			return nil, err
		}
		c.openSig.Prepare() // under c.mu, where MAX_STREAMS raises the limit
		c.mu.Unlock()
		select {
		case <-c.openSig.C():
		case <-c.closed:
		case <-ctx.Done():
			c.openSig.Cancel()
			return nil, ctx.Err()
		}
		c.openSig.Cancel()
	}
}

// AcceptStream returns the next stream opened by the peer, blocking until
// one arrives, ctx ends or the Conn closes.
func (c *Conn) AcceptStream(ctx context.Context) (*Stream, error) {
	for {
		c.mu.Lock()
		if len(c.acceptQ) > 0 {
			st := c.acceptQ[0]
			copy(c.acceptQ, c.acceptQ[1:])
			c.acceptQ[len(c.acceptQ)-1] = nil
			c.acceptQ = c.acceptQ[:len(c.acceptQ)-1]
			if len(c.acceptQ) > 0 {
				c.acceptSig.Notify() // pass the wake-up on
			}
			st.accepted = true
			held := st.creditHeld
			if held {
				// Retired while queued: its place is free only now.
				st.creditHeld = false
				c.returnStreamCredit(st)
			}
			c.mu.Unlock()
			if held {
				c.cfg.Waker() // MAX_STREAMS may be due
			}
			c.stats.StreamsAccepted.Add(1)
			return st, nil
		}
		err := c.err
		if err != nil {
			c.mu.Unlock()
			return nil, err
		}
		c.acceptSig.Prepare() // under c.mu, where streams are queued
		c.mu.Unlock()
		select {
		case <-c.acceptSig.C():
		case <-c.closed:
		case <-ctx.Done():
			c.acceptSig.Cancel()
			return nil, ctx.Err()
		}
		c.acceptSig.Cancel()
	}
}

// Close ends the Conn with err (ErrConnClosed if nil): every blocked and
// future call of the application side returns it (Reads first return the
// bytes already received). Driver side; idempotent.
func (c *Conn) Close(err error) {
	if err == nil {
		err = ErrConnClosed
	}
	c.mu.Lock()
	if c.err == nil {
		c.err = err
		c.releaseLocked()
	}
	c.mu.Unlock()
	c.closeOnce.Do(func() { close(c.closed) })
}

// newStream creates the state of stream id (c.mu held).
func (c *Conn) newStream(id uint32, local bool) *Stream {
	st := &Stream{
		c:     c,
		id:    id,
		local: local,
		prio:  DefaultPriority,
	}
	st.readSig.Init()
	st.writeSig.Init()
	st.send.InitLazy(64<<10, 0)
	st.sendCredit.Init(InitialStreamWindow)
	st.recv.InitLazy(InitialStreamWindow, InitialStreamWindow, min(streambuf.DefaultMaxRanges, c.cfg.MaxRecvGaps))
	st.recv.SetMaxCap(int(c.cfg.MaxStreamWindow))
	st.recvWin.Init(InitialStreamWindow, c.cfg.MaxStreamWindow, c.clock(c.now))
	c.streams[id] = st
	if !local {
		c.chargePeerStream(st)
	}
	c.streamWindows += InitialStreamWindow
	c.ensureSessionWindow()
	return st
}

// ensureSessionWindow keeps the session window at SessionWindowFactor
// times the sum of the open streams' windows (up to its maximum), so that
// the session limit does not throttle streams that each stay within their
// own window: with 16 streams of 256 KiB, a fixed 384 KiB session window
// left each about 24 KiB in flight (c.mu held).
func (c *Conn) ensureSessionWindow() {
	c.recvWin.EnsureWindow(uint64(float64(c.streamWindows) * flowcontrol.SessionWindowFactor))
}

func (c *Conn) clock(now time.Time) time.Duration { return now.Sub(c.cfg.Start) }

// activate puts st on the send schedule (c.mu held).
func (c *Conn) activate(st *Stream) {
	if !st.inActive && !st.retired {
		st.inActive = true
		c.active = append(c.active, st)
	}
}

// queueCtl puts st on the control schedule (c.mu held).
func (c *Conn) queueCtl(st *Stream) {
	if !st.inCtl && !st.retired {
		st.inCtl = true
		c.ctlq = append(c.ctlq, st)
	}
}

// consumedLocked charges n bytes read by the application to both windows
// and reports whether a credit update became due (the driver must poll).
func (c *Conn) consumedLocked(st *Stream, n int) bool {
	st.recvWin.OnConsumed(uint64(n))
	c.recvWin.OnConsumed(uint64(n))
	wake := false
	if st.recvWin.UpdateDue() {
		c.queueCtl(st)
		wake = true
	}
	if c.recvWin.UpdateDue() {
		wake = true
	}
	return wake
}

// discardLocked drops the readable bytes of a stream whose reading was
// canceled, releasing their credit.
func (c *Conn) discardLocked(st *Stream) {
	var scratch [512]byte
	for {
		n, _ := st.recv.Read(scratch[:])
		if n == 0 {
			return
		}
		c.consumedLocked(st, n)
	}
}

// resetSendLocked resets st's sending direction with code (peer true: on
// the peer's STOP_SENDING). It reports whether a RESET_STREAM was queued.
func (c *Conn) resetSendLocked(st *Stream, code uint64, peer bool) bool {
	if st.resetState != resetNone || st.send.Done() {
		return false
	}
	st.resetFinal = st.send.Reset()
	st.resetCode = code
	st.resetState = resetQueued
	st.sendErr = &StreamError{StreamID: st.id, Code: code, Remote: peer}
	c.queueCtl(st)
	st.writeSig.Notify()
	return true
}

// maybeRetire frees st once both directions are finished: the peer may then
// open another stream in its place, once the application accepted st
// (c.mu held).
func (c *Conn) maybeRetire(st *Stream) {
	if st.retired {
		return
	}
	sendDone := st.send.Done() || st.resetState == resetAcked
	_, peerReset := st.recv.ResetCode()
	fin, finKnown := st.recv.FinalSize()
	if !sendDone || !(st.recv.Done() || peerReset || st.readCanceled && finKnown) {
		return
	}
	if peerReset || st.readCanceled {
		// Bytes up to the final size that nobody will read still count
		// against the session window: release them.
		if used := st.recvWin.Consumed(); fin > used {
			c.recvWin.OnConsumed(fin - used)
		}
	}
	st.retired = true
	c.releaseGaps(st)
	c.streamWindows -= st.recvWin.Window()
	delete(c.streams, st.id)
	if st.local {
		return
	}
	if !st.accepted {
		// Still queued for AcceptStream (the peer reset it first; its
		// ring is already freed): the peer gets its place back when the
		// application takes it, so unaccepted streams stay bounded by
		// the stream limit.
		st.creditHeld = true
		return
	}
	c.returnStreamCredit(st)
}
