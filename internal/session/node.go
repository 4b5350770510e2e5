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
	"github.com/sttgo/stt/internal/membudget"
	"github.com/sttgo/stt/ring"
)

// FrameHandler handles a custom frame type (0x80-0xFF). It is called on the
// shard goroutine with the decrypted payload, which is valid only during the
// call (copy it to keep it). It must not block: the whole shard waits.
type FrameHandler func(s *Session, streamID uint32, payload []byte)

// Node is the session layer of one stt node: the [engine.Handler] (and
// [engine.Pumper]) that runs handshakes and sessions on every shard, and
// the application-side entry points (Dial, Accept, Shutdown) that reach the
// shards through bounded command rings.
type Node struct {
	cfg      Config
	eng      *engine.Engine
	hsStats  handshake.Stats
	hsBudget *handshake.WorkBudget // shared by the shards' responders
	jar      *handshake.CookieJar
	tickets  *handshake.TicketJar  // resumption tickets from the peers this node dialed
	tkeys    *handshake.TicketKeys // seals the tickets this node issues, shared by the shards
	shards   []*shard
	cmds     []*ring.MPSC[command]
	sendBufs *bufStack
	accept   chan *Session
	handlers [256]atomic.Pointer[FrameHandler]
	// flushReqs[i] lists the sessions of shard i whose application side
	// has something for the stream layer to send.
	flushReqs []flushRequests
	stats     NodeStats
	pmtuOK    bool // the socket sets don't-fragment: probes are honest (SetPMTUDiscovery)
	eph       ephemerals
	budget    *membudget.Budget // receive-side memory of all sessions
	resetKey  [32]byte          // stateless reset key, from the seed (reset.go)
	resets    resetTable        // reset token -> session
	intro     introState        // introductions (intro.go)

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
	if cfg.NodeKey == nil {
		return nil, fmt.Errorf("%w: no node key", ErrConfig)
	}
	if len(cfg.Suites) == 0 || shards < 1 {
		return nil, fmt.Errorf("%w: no suites or no shards", ErrConfig)
	}
	if cfg.IPv4PrefixLen != 0 && (cfg.IPv4PrefixLen < 8 || cfg.IPv4PrefixLen > 32) {
		return nil, fmt.Errorf("%w: IPv4PrefixLen %d (want 8..32)", ErrConfig, cfg.IPv4PrefixLen)
	}
	bcfg := cfg.HandshakeBudget
	bcfg.IPv4PrefixLen = cfg.IPv4PrefixLen
	n := &Node{
		hsBudget: handshake.NewWorkBudget(bcfg),
		cfg:      cfg,
		jar:      handshake.NewCookieJar(1024),
		tickets:  handshake.NewTicketJar(1024),
		tkeys:    handshake.NewTicketKeys(nil, ticketLifetime(cfg.TicketLifetime)),
		sendBufs: newBufStack(cfg.SendBuffers, cfg.MTU),
		accept:   make(chan *Session, cfg.AcceptQueue),
		eph:      ephemerals{set: make(map[[32]byte]struct{})},
		budget:   membudget.New(cfg.MemoryBudget),
		closed:   make(chan struct{}),
		resetKey: deriveResetKey(cfg.Seed),
		resets:   resetTable{m: make(map[codec.ResetToken]*Session)},
	}
	n.stats.budget = n.budget
	n.intro.init()
	n.flushReqs = make([]flushRequests, shards)
	for i := range shards {
		sh, err := newShard(n, i, shards)
		if err != nil {
			return nil, err
		}
		n.shards = append(n.shards, sh)
		n.cmds = append(n.cmds, ring.NewMPSC[command](DefaultCommandRing))
	}
	return n, nil
}

// Attach binds the node to its engine (built with the node as Handler and
// the same number of shards): each shard sends through the engine shard of
// the same index.
func (n *Node) Attach(e *engine.Engine) error {
	if e.Shards() != len(n.shards) {
		return fmt.Errorf("%w: engine has %d shards, node %d", ErrConfig, e.Shards(), len(n.shards))
	}
	n.eng = e
	for i, sh := range n.shards {
		sh.out = e.Shard(i)
		sh.wake = time.AfterFunc(time.Hour, func() { e.Wake(i) })
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

// Budget returns the node's memory budget (see Config.MemoryBudget).
func (n *Node) Budget() *membudget.Budget { return n.budget }

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

func (n *Node) localAddr() netip.AddrPort { return n.eng.LocalAddr() }

// Dial runs a handshake with peer (re-dialing once after a first timeout)
// and returns the established session. Errors wrap the handshake's
// (handshake.ErrAuthFailed, handshake.ErrHandshakeTimeout...), or are
// ctx.Err(), ErrDialInProgress, ErrTableFull, ErrBackpressure, ErrClosed.
func (n *Node) Dial(ctx context.Context, peer netip.AddrPort) (*Session, error) {
	return n.DialExpect(ctx, peer, [32]byte{})
}

// DialExpect is Dial to a peer that must prove the node id expect (zero:
// any id); a peer that proves another fails the dial with
// handshake.ErrPeerIdentity.
func (n *Node) DialExpect(ctx context.Context, peer netip.AddrPort, expect [32]byte) (*Session, error) {
	d := &dialReq{peer: peer, expect: expect, start: n.cfg.Now(), res: make(chan dialResult, 1)}
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

// Sessions returns the node's established sessions (a snapshot, gathered
// from every shard), or ErrClosed.
func (n *Node) Sessions(ctx context.Context) ([]*Session, error) {
	var all []*Session
	for i := range n.shards {
		ch := make(chan []*Session, 1)
		if !n.post(i, command{op: opList, list: ch}) {
			return nil, n.closedOr(ErrBackpressure)
		}
		select {
		case l := <-ch:
			all = append(all, l...)
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-n.closed:
			return nil, ErrClosed
		}
	}
	return all, nil
}

// ShutdownSessions shuts every established session down gracefully, at
// once (see Session.Shutdown), and returns when all have closed or ctx
// ended (ctx.Err()). Sessions established meanwhile are not waited for.
func (n *Node) ShutdownSessions(ctx context.Context) error {
	l, err := n.Sessions(ctx)
	if err != nil {
		return err
	}
	errs := make(chan error, len(l))
	for _, s := range l {
		go func() { errs <- s.Shutdown(ctx, "node shutting down") }()
	}
	for range l {
		if e := <-errs; e != nil && e == ctx.Err() {
			err = e // the other errors are sessions that ended meanwhile
		}
	}
	return err
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
	n.StopTimers()
	return err
}

// StopTimers stops every shard's wake-up timer. Shutdown does; call it
// again after closing the engine, when no shard goroutine can re-arm one:
// an armed timer keeps the engine (its buffer pools) reachable until it
// fires, up to the idle timeout after the node closed.
func (n *Node) StopTimers() {
	for _, sh := range n.shards {
		if sh.wake != nil {
			sh.wake.Stop()
		}
	}
}

// ticketLifetime is the lifetime of the node's ticket keys: the configured
// one, or the default (with resumption off the keys are never used).
func ticketLifetime(d time.Duration) time.Duration {
	if d <= 0 {
		return handshake.DefaultTicketLifetime
	}
	return d
}
