package session

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/engine"
	"github.com/sttgo/stt/handshake"
	"github.com/sttgo/stt/ring"
	"github.com/sttgo/stt/suite"
)

// FrameHandler handles a custom frame type (0x80-0xFF). It is called on the
// shard goroutine with the decrypted payload, which is valid only during the
// call (copy it to keep it). It must not block: the whole shard waits.
type FrameHandler func(s *Session, streamID uint32, payload []byte)

// NodeStats are node-wide counters of the session layer.
type NodeStats struct {
	DropUnknownSession atomic.Uint64 // protected frame for no session of this node
	DropNotOpen        atomic.Uint64 // frame for a session not (or no longer) open
	DropHandshake      atomic.Uint64 // handshake frame dropped (malformed, unexpected, reflected...)
	SimultaneousKept   atomic.Uint64 // peer HELLO ignored: we stay initiator
	SimultaneousYield  atomic.Uint64 // our initiation abandoned: we respond
	Redials            atomic.Uint64 // handshakes restarted after a first timeout
	DialFailures       atomic.Uint64
	TableFull          atomic.Uint64 // sessions refused: table full
	AcceptQueueFull    atomic.Uint64 // inbound sessions refused: nobody accepts
	SessionsOpened     atomic.Uint64
	SessionsClosed     atomic.Uint64
	SessionsActive     atomic.Int64
	CommandRingFull    atomic.Uint64
}

// Node is the session layer of one stt node: the engine.Handler (and
// engine.Pumper) that runs handshakes and sessions on every shard.
type Node struct {
	cfg      Config
	eng      *engine.Engine
	hsStats  handshake.Stats
	jar      *handshake.CookieJar
	shards   []*shardState
	cmds     []*ring.MPSC[command]
	sendBufs *bufStack
	accept   chan *Session
	handlers [256]atomic.Pointer[FrameHandler]
	// flushReqs[i] lists the sessions of shard i whose application side
	// has something for the stream layer to send.
	flushReqs []flushRequests
	stats     NodeStats
	pmtuOK    bool // the socket sets don't-fragment: probes are honest (SetPMTUDiscovery)

	ephMu sync.Mutex
	eph   map[[32]byte]struct{}

	closeOnce sync.Once
	closed    chan struct{}
}

// NewNode returns the session layer for an engine of the given number of
// shards. Call Attach with the engine built over it before Start.
func NewNode(cfg Config, shards int) (*Node, error) {
	cfg.fill()
	if len(cfg.Seed) < handshake.MinSeedLen {
		return nil, fmt.Errorf("%w: seed shorter than %d bytes", ErrConfig, handshake.MinSeedLen)
	}
	if len(cfg.Suites) == 0 || shards < 1 {
		return nil, fmt.Errorf("%w: no suites or no shards", ErrConfig)
	}
	n := &Node{
		cfg:      cfg,
		jar:      handshake.NewCookieJar(1024),
		sendBufs: newBufStack(cfg.SendBuffers, cfg.MTU),
		accept:   make(chan *Session, cfg.AcceptQueue),
		eph:      make(map[[32]byte]struct{}),
		closed:   make(chan struct{}),
	}
	n.flushReqs = make([]flushRequests, shards)
	for i := range shards {
		sh, err := newShardState(n, i, shards)
		if err != nil {
			return nil, err
		}
		n.shards = append(n.shards, sh)
		n.cmds = append(n.cmds, ring.NewMPSC[command](DefaultCommandRing))
	}
	return n, nil
}

// Attach binds the node to its engine (built with the node as Handler and
// the same number of shards).
func (n *Node) Attach(e *engine.Engine) error {
	if e.Shards() != len(n.shards) {
		return fmt.Errorf("%w: engine has %d shards, node %d", ErrConfig, e.Shards(), len(n.shards))
	}
	n.eng = e
	for i, sh := range n.shards {
		id := i
		sh.wake = time.AfterFunc(time.Hour, func() { e.Wake(id) })
		sh.wake.Stop()
	}
	return nil
}

// SetPMTUDiscovery enables path MTU probing up to Config.MaxMTU for the
// sessions established from now on. Call it before Start, only if the
// socket sets the don't-fragment bit (otherwise the kernel would fragment
// probes and they would succeed at sizes the path cannot carry whole).
func (n *Node) SetPMTUDiscovery(on bool) { n.pmtuOK = on }

// HandshakeStats returns the handshake counters of all shards.
func (n *Node) HandshakeStats() *handshake.Stats { return &n.hsStats }

// Stats returns the node-wide session-layer counters.
func (n *Node) Stats() *NodeStats { return &n.stats }

// SetHandler registers h for custom frame type t (0x80-0xFF); nil removes it.
func (n *Node) SetHandler(t uint8, h FrameHandler) error {
	if t < codec.TypeCustomMin {
		return ErrFrameType
	}
	if h == nil {
		n.handlers[t].Store(nil)
		return nil
	}
	n.handlers[t].Store(&h)
	return nil
}

// payloadFor returns the largest payload whose frame, sealed by sl, fits a
// datagram of mtu bytes (STC ciphertext is longer than its plaintext).
func payloadFor(sl *suite.Sealer, mtu int) int {
	// FrameLen is non-decreasing in the payload: binary search.
	lo, hi := 0, min(mtu, suite.MaxPayload)+1 // lo fits (or is 0), hi does not
	for hi-lo > 1 {
		m := (lo + hi) / 2
		if sl.FrameLen(m) <= mtu {
			lo = m
		} else {
			hi = m
		}
	}
	return lo
}

// post queues c for shard i and wakes it; false when the ring is full.
func (n *Node) post(i int, c command) bool {
	select {
	case <-n.closed:
		return false
	default:
	}
	if !n.cmds[i].Push(c) {
		n.stats.CommandRingFull.Add(1)
		return false
	}
	n.eng.Wake(i)
	return true
}

// Dial runs a handshake with peer (re-dialing once after a first timeout)
// and returns the established session. Errors wrap the handshake's
// (handshake.ErrAuthFailed, handshake.ErrHandshakeTimeout...), or are
// ctx.Err(), ErrDialInProgress, ErrTableFull, ErrBackpressure, ErrClosed.
func (n *Node) Dial(ctx context.Context, peer netip.AddrPort) (*Session, error) {
	d := &dialReq{peer: peer, res: make(chan dialResult, 1)}
	if !n.post(n.eng.ShardOfAddr(peer), command{op: opDial, d: d}) {
		return nil, n.closedOr(ErrBackpressure)
	}
	select {
	case r := <-d.res:
		return r.s, r.err
	case <-ctx.Done():
		d.canceled.Store(true)
		// The shard answers every dial exactly once; after the cancel
		// command (queued behind the dial) the answer is final, so a
		// session that completed meanwhile is closed, not leaked.
		if n.post(n.eng.ShardOfAddr(peer), command{op: opCancelDial, d: d}) {
			select {
			case r := <-d.res:
				if r.s != nil {
					r.s.Close(codec.CodeNoError, "dial canceled")
				}
			case <-n.closed:
			}
		}
		return nil, ctx.Err()
	case <-n.closed:
		return nil, ErrClosed
	}
}

// Accept returns the next inbound session, blocking until one is
// established, ctx ends or the node closes (ErrClosed).
func (n *Node) Accept(ctx context.Context) (*Session, error) {
	select {
	case s := <-n.accept:
		return s, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-n.closed:
		return nil, ErrClosed
	}
}

func (n *Node) closedOr(err error) error {
	select {
	case <-n.closed:
		return ErrClosed
	default:
		return err
	}
}

// Shutdown sends SESSION_CLOSE(NO_ERROR) on every open session of every
// shard and waits until each shard has flushed them (or ctx ends). After it,
// Dial, Accept and session methods fail with ErrClosed. Close the engine
// afterwards.
func (n *Node) Shutdown(ctx context.Context) error {
	acks := make([]chan struct{}, len(n.shards))
	for i := range n.shards {
		acks[i] = make(chan struct{})
		c := command{op: opShutdown, ack: acks[i]}
		for !n.cmds[i].Push(c) {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Millisecond):
			}
		}
		n.eng.Wake(i)
	}
	var err error
	for _, a := range acks {
		select {
		case <-a:
		case <-ctx.Done():
			err = ctx.Err()
		}
		if err != nil {
			break
		}
	}
	n.closeOnce.Do(func() { close(n.closed) })
	for _, sh := range n.shards {
		if sh.wake != nil {
			sh.wake.Stop()
		}
	}
	return err
}

// HandleBatch implements engine.Handler.
func (n *Node) HandleBatch(s *engine.Shard, batch []engine.Inbound) {
	sh := n.shards[s.ID()]
	sh.out, sh.lr = s, s
	now := n.cfg.Now()
	for i := range batch {
		sh.receive(&batch[i].Frame, batch[i].From, now)
	}
	sh.flushAll(now)
}

// Pump implements engine.Pumper: it runs the shard's commands and due timers.
func (n *Node) Pump(s *engine.Shard) bool {
	sh := n.shards[s.ID()]
	sh.out, sh.lr = s, s
	now := n.cfg.Now()
	k := n.cmds[s.ID()].PopBatch(sh.cmdBuf)
	for i := range k {
		sh.command(&sh.cmdBuf[i], now)
		sh.cmdBuf[i] = command{}
	}
	sh.takeFlushRequests()
	sh.runTimers(now)
	more := sh.flushAll(now)
	if sh.shutdownAck != nil && k == 0 {
		// The SESSION_CLOSEs queued by the shutdown command must be on
		// the wire before Shutdown returns and the engine closes its
		// conn: the shard may be holding its output back (Pumper).
		s.Flush()
		close(sh.shutdownAck)
		sh.shutdownAck = nil
	}
	return more || k == len(sh.cmdBuf) || sh.shutdownAck != nil
}

// flushRequests is one shard's list of sessions to flush, filled by
// application goroutines (Node.requestFlush).
type flushRequests struct {
	mu   sync.Mutex
	list []*Session
}

// ownEphemeral implements handshake.Config.IsOwnEphemeral.
func (n *Node) ownEphemeral(pub *[32]byte) bool {
	n.ephMu.Lock()
	_, ok := n.eph[*pub]
	n.ephMu.Unlock()
	return ok
}

func (n *Node) addEph(pub [32]byte, add bool) {
	n.ephMu.Lock()
	if add {
		n.eph[pub] = struct{}{}
	} else {
		delete(n.eph, pub)
	}
	n.ephMu.Unlock()
}

// Command ops.
const (
	opDial uint8 = iota + 1
	opSend
	opRotate
	opClose
	opPhases
	opShutdown
	opCancelDial
)

// command is a request from an application goroutine to a shard. Pointer
// fields keep it allocation-free to pass through the ring.
type command struct {
	op        uint8
	frameType uint8
	stream    uint32
	code      codec.ErrorCode
	s         *Session
	d         *dialReq
	buf       []byte // opSend: a buffer of Node.sendBufs, returned by the shard
	reason    string
	phases    chan [2]uint64
	ack       chan struct{}
}

type dialReq struct {
	peer     netip.AddrPort
	res      chan dialResult
	canceled atomic.Bool
}

type dialResult struct {
	s   *Session
	err error
}

// Each calls fn with every counter's name and value.
func (st *NodeStats) Each(fn func(name string, v uint64)) {
	fn("drop_unknown_session", st.DropUnknownSession.Load())
	fn("drop_not_open", st.DropNotOpen.Load())
	fn("drop_handshake", st.DropHandshake.Load())
	fn("simultaneous_kept", st.SimultaneousKept.Load())
	fn("simultaneous_yield", st.SimultaneousYield.Load())
	fn("redials", st.Redials.Load())
	fn("dial_failures", st.DialFailures.Load())
	fn("table_full", st.TableFull.Load())
	fn("accept_queue_full", st.AcceptQueueFull.Load())
	fn("sessions_opened", st.SessionsOpened.Load())
	fn("sessions_closed", st.SessionsClosed.Load())
	fn("sessions_active", uint64(max(st.SessionsActive.Load(), 0)))
	fn("command_ring_full", st.CommandRingFull.Load())
}
