package engine

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/engine/bufpool"
	"github.com/sttgo/stt/engine/conn"
	"github.com/sttgo/stt/internal/wake"
	"github.com/sttgo/stt/ring"
)

// Errors returned by the engine.
var (
	// ErrBackpressure reports that a frame could not be queued because the
	// buffer pool or the shard's send ring is full. Nothing was queued; the
	// caller may retry later.
	ErrBackpressure = errors.New("engine: backpressure (buffer pool or send ring full)")
	// ErrFrameTooLarge reports a frame whose encoding exceeds the MTU.
	ErrFrameTooLarge = errors.New("engine: frame larger than the MTU")
	// ErrClosed reports use of an engine after Close.
	ErrClosed = errors.New("engine: closed")
	// ErrStarted reports a second call to Start.
	ErrStarted = errors.New("engine: already started")
)

// Engine is the data plane over one [conn.Batch]. Create it with [New],
// run it with [Start], stop it with [Close].
type Engine struct {
	c    conn.Batch
	caps conn.Caps
	cfg  Config
	h    Handler
	pool *bufpool.Pool
	// sendPool holds the MTU-size copies made by Engine.Send: at most one
	// per send-ring slot, so that queued frames never tie up large
	// buffers.
	sendPool *bufpool.Pool
	// rawPool holds the copies made by Engine.SendRaw: at most one per
	// raw-ring slot.
	rawPool *bufpool.Pool
	shards  []*Shard
	seed    [2]uint64 // address-hash seed, random per engine

	rx  counters // receive loop
	app counters // Engine.Send (shared by application goroutines)

	// Receive loop state, written per datagram: padded off the lines of
	// fields other goroutines read (closing is read by every shard step).
	_         [64]byte
	rxTally   totals // counts of the current batch, see publishRx
	rxTouched []bool // shards that got items this batch
	rxShards  int    // how many shards got items this batch
	rxLast    int    // the last shard that got items
	_         [64]byte

	done      chan struct{}
	wg        sync.WaitGroup
	started   atomic.Bool
	closing   atomic.Bool // read by every loop iteration: keep off written lines
	closeOnce sync.Once
	closeErr  error

	_       [64]byte
	sending atomic.Int64 // Engine.Send and SendRaw calls in progress (enterSend; written per send)
	_       [56]byte

	// space wakes SendWait callers blocked on backpressure (a woken
	// waiter passes the wake-up on).
	space wake.Signal
}

// New builds an engine over c with cfg (zero fields take defaults, see
// [Config]) that delivers received frames to h. It allocates every buffer,
// ring and batch slice up front. New takes ownership of c: [Engine.Close]
// closes it. Errors wrap [ErrConfig]; h must not be nil.
func New(c conn.Batch, cfg Config, h Handler) (*Engine, error) {
	if c == nil || h == nil {
		return nil, errors.Join(ErrConfig, errors.New("engine: nil conn or handler"))
	}
	caps := c.Caps()
	cfg, err := cfg.withDefaults(caps)
	if err != nil {
		return nil, err
	}
	e := &Engine{
		c:         c,
		caps:      caps,
		cfg:       cfg,
		h:         h,
		pool:      bufpool.New(cfg.PoolBuffers, cfg.BufferSize),
		sendPool:  bufpool.New(cfg.Shards*ring.Capacity(cfg.SendRingSize), cfg.MTU),
		rawPool:   bufpool.New(cfg.Shards*ring.Capacity(cfg.RawRingSize), min(cfg.MTU+RawHeadroom, cfg.BufferSize, maxUDPPayload)),
		rxTouched: make([]bool, cfg.Shards),
		done:      make(chan struct{}),
	}
	e.space.Init()
	var seed [16]byte
	_, _ = rand.Read(seed[:]) // crypto/rand.Read never fails (Go 1.24+)
	e.seed[0] = binary.LittleEndian.Uint64(seed[:8])
	e.seed[1] = binary.LittleEndian.Uint64(seed[8:])
	e.shards = make([]*Shard, cfg.Shards)
	for i := range e.shards {
		e.shards[i] = newShard(e, i)
	}
	return e, nil
}

// Config returns the configuration in effect, with defaults filled in.
func (e *Engine) Config() Config { return e.cfg }

// Pool returns the engine's buffer pool (for inspection; buffers obtained
// from it follow the bufpool ownership rules).
func (e *Engine) Pool() *bufpool.Pool { return e.pool }

// SendPool returns the pool of MTU-size buffers that [Engine.Send] copies
// frames into: Shards*SendRingSize buffers (ring size rounded up to a power
// of two).
func (e *Engine) SendPool() *bufpool.Pool { return e.sendPool }

// Shards returns the number of shards.
func (e *Engine) Shards() int { return len(e.shards) }

// Shard returns shard i (0 <= i < Shards()). Its methods other than ID and
// Engine may be called only from the [Handler] and [Pumper] calls for it,
// or, on an engine that was never started, from one goroutine at a time
// (tests drive shards by hand that way). It panics if i is out of range.
func (e *Engine) Shard(i int) *Shard { return e.shards[i] }

// LocalAddr returns the address of the engine's conn.
func (e *Engine) LocalAddr() netip.AddrPort { return e.c.LocalAddr() }

// Start launches the receive loop and the shard goroutines. It returns
// [ErrStarted] on a second call and [ErrClosed] after Close.
func (e *Engine) Start() error {
	if e.closing.Load() {
		return ErrClosed
	}
	if !e.started.CompareAndSwap(false, true) {
		return ErrStarted
	}
	e.wg.Add(1 + len(e.shards))
	for _, s := range e.shards {
		go s.run()
	}
	go e.receive()
	e.cfg.Logger.Info("engine started", "addr", e.c.LocalAddr(), "shards", len(e.shards),
		"batch", e.cfg.BatchSize, "buffers", e.cfg.PoolBuffers, "bufsize", e.cfg.BufferSize,
		"gso", e.caps.GSO, "gro", e.caps.GRO)
	return nil
}

// Close stops the loops, closes the conn, waits for every goroutine to
// exit and releases every buffer the engine holds, including frames queued
// but not yet sent (they are discarded). It is idempotent and safe to call
// concurrently; later calls return the first call's result, which is the
// conn's Close error (nil if it was already closed with net.ErrClosed).
func (e *Engine) Close() error {
	e.closeOnce.Do(func() {
		e.closing.Store(true)
		close(e.done)
		e.closeErr = e.c.Close()
		e.wg.Wait()
		for e.sending.Load() != 0 { // an Engine.Send may be mid-push
			runtime.Gosched()
		}
		for _, s := range e.shards {
			s.discard()
		}
		e.cfg.Logger.Info("engine closed", "addr", e.c.LocalAddr())
	})
	if isClosedErr(e.closeErr) {
		return nil
	}
	return e.closeErr
}

// Stats returns a snapshot of the counters, read without locks.
func (e *Engine) Stats() Stats {
	var t totals
	e.rx.addTo(&t)
	e.app.addTo(&t)
	for _, s := range e.shards {
		s.stats.addTo(&t)
	}
	st := t.stats()
	st.PoolFree = uint64(e.pool.Available())
	st.SendPoolFree = uint64(e.sendPool.Available())
	st.RawPoolFree = uint64(e.rawPool.Available())
	return st
}

// ShardOfSession returns the index of the shard that owns session id. The
// mapping is fixed for a given number of shards. A handshake responder can
// use it to pick a session id that lands on its own shard.
func (e *Engine) ShardOfSession(id codec.SessionID) int {
	return reduce(mix64(id.Uint64()), len(e.shards))
}

// ShardOfAddr returns the index of the shard that receives handshake frames
// from addr. The mapping is seeded per engine.
func (e *Engine) ShardOfAddr(addr netip.AddrPort) int {
	return reduce(e.hashAddr(addr), len(e.shards))
}

// shardFor picks the shard for a frame with header h from or to peer.
func (e *Engine) shardFor(h *codec.Header, peer netip.AddrPort) *Shard {
	if h.Type == codec.TypeHandshake {
		return e.shards[e.ShardOfAddr(peer)]
	}
	return e.shards[e.ShardOfSession(h.SessionID)]
}

// enterSend registers a sender (e.sending) unless the engine is closing;
// Close waits for registered senders after setting closing, so a sender
// that got true may use the pools until it decrements e.sending. It
// returns false (nothing registered) when the engine is closing.
func (e *Engine) enterSend() bool {
	if e.closing.Load() {
		return false
	}
	e.sending.Add(1)
	if e.closing.Load() {
		e.sending.Add(-1)
		return false
	}
	return true
}

// Send queues f for peer to, from any goroutine: it encodes f into a
// send-pool buffer (see [Engine.SendPool]; f is not retained) and hands it to the shard that owns f's
// session (handshake frames: the shard of to), which coalesces and sends it
// in its next batch. Errors: [ErrFrameTooLarge] if f's encoding exceeds the
// MTU, [ErrBackpressure] if the pool or the shard's send ring is full,
// [ErrClosed] after Close. It never allocates.
func (e *Engine) Send(to netip.AddrPort, f *codec.Frame) error {
	if !e.enterSend() {
		return ErrClosed
	}
	defer e.sending.Add(-1)
	n := f.EncodedLen()
	if n > e.cfg.MTU {
		return ErrFrameTooLarge
	}
	b := e.sendPool.Get()
	if b == nil {
		e.app.add(cSendBackpressure, 1)
		return ErrBackpressure
	}
	if _, err := f.Encode(b.Data()); err != nil {
		b.Release()
		return err
	}
	b.SetLen(n)
	s := e.shardFor(&f.Header, to)
	b.Addr = to
	if !s.sendq.Push(b) {
		b.Release()
		e.app.add(cSendBackpressure, 1)
		return ErrBackpressure
	}
	s.sig.Notify()
	return nil
}

// SendWait is [Engine.Send] that waits while the engine applies
// backpressure (pool or send ring full) instead of failing, until the frame
// is queued, done is closed ([ErrBackpressure]) or the engine closes
// ([ErrClosed]). It returns Send's other errors at once. It never allocates;
// waiting costs no CPU (a shard wakes waiters after it freed space).
func (e *Engine) SendWait(to netip.AddrPort, f *codec.Frame, done <-chan struct{}) error {
	for woken := false; ; woken = true {
		err := e.Send(to, f)
		if err != ErrBackpressure {
			if woken {
				e.space.Notify() // pass the wake-up on to the next waiter
			}
			return err
		}
		e.space.Prepare()
		// Re-check after announcing: a shard that freed space before it
		// saw the announcement left no wake-up.
		if err = e.Send(to, f); err != ErrBackpressure {
			e.space.Cancel()
			e.space.Notify() // a token meant for us may be taken: pass it on
			return err
		}
		select {
		case <-e.space.C():
			e.space.Cancel()
		case <-done:
			e.space.Cancel()
			return ErrBackpressure
		case <-e.done:
			e.space.Cancel()
			return ErrClosed
		}
	}
}

// Wake makes shard i run a [Pumper] round soon, even if no traffic
// arrives: call it from any goroutine after queuing work that the handler's
// Pump will send. It never blocks. It panics if i is out of range.
func (e *Engine) Wake(i int) {
	s := e.shards[i]
	s.woken.Store(true)
	s.sig.Notify()
}

// wakeSenders wakes one SendWait caller, if any is blocked. Any goroutine.
func (e *Engine) wakeSenders() { e.space.Notify() }

// newRings builds a shard's rings and signal.
func newRings(cfg *Config) (*ring.MPSC[rxItem], *ring.MPSC[*bufpool.Buf], *wake.Signal) {
	return ring.NewMPSC[rxItem](cfg.RingSize), ring.NewMPSC[*bufpool.Buf](cfg.SendRingSize), wake.New()
}
