package engine

import (
	"net/netip"
	"runtime"
	"sync/atomic"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/engine/bufpool"
	"github.com/sttgo/stt/internal/wake"
	"github.com/sttgo/stt/ring"
)

// Inbound is one received frame handed to a [Handler].
type Inbound struct {
	// Frame is the decoded frame. Its Metadata, Payload and HeaderBytes
	// alias Buf's memory.
	Frame codec.Frame
	// From is the datagram's source.
	From netip.AddrPort
	// Buf is the pooled buffer holding the datagram (with GRO, Buf.Bytes()
	// spans the whole super-datagram, not just this frame's datagram). The
	// shard releases its
	// reference after the Handler call returns; a handler that keeps Frame's
	// slices (or Buf) beyond the call must call Buf.Retain during the call
	// and Buf.Release when done.
	Buf *bufpool.Buf
}

// Handler consumes received frames. The engine shares one Handler among all
// shards, so HandleBatch is called concurrently for different shards, but
// never concurrently for the same shard: per-shard state indexed by
// [Shard.ID] needs no locks, and every session's frames arrive on the one
// shard that owns it.
type Handler interface {
	// HandleBatch is called for shard s with up to a few batches' worth of
	// frames, in arrival order, on the shard's goroutine (or, with
	// [Config.InlineDelivery], possibly on the receive loop's; calls for s
	// never overlap either way, and happen-before each other). batch and
	// its elements are valid only during the call (see Inbound.Buf to keep
	// a frame). The handler may queue replies with s.Send; they are
	// flushed after the call. It should not block: it stalls its shard
	// (with InlineDelivery, all reception).
	HandleBatch(s *Shard, batch []Inbound)
}

// Pumper is an optional interface of a [Handler] that also produces frames
// on its own (queued stream data, retransmissions): the shard calls Pump
// where [Shard.Send] encodes straight into the output, with neither the
// copy nor the hand-off of [Engine.Send].
type Pumper interface {
	// Pump is called for shard s once per shard step, after received
	// frames were handled, serialized with HandleBatch for s like every
	// call for s (see [Handler]). It may call s.Send. It reports whether
	// it has more to send right away: true keeps the shard looping (and
	// may hold the output back for up to 16 steps, until it fills a
	// WriteBatch); false flushes the output and lets the shard sleep
	// until traffic arrives or [Engine.Wake] is called for the shard.
	Pump(s *Shard) (more bool)
}

// SendErrorHandler is an optional interface of a [Handler]: the shard
// reports each datagram (or GSO run) the conn refused to send because of
// its destination (an address of the wrong family, an unreachable network,
// a firewall's EPERM), so the layer above can fail a dial at once instead
// of waiting for a timeout. The datagrams are dropped and counted either
// way (TxErrors, TxDropped).
type SendErrorHandler interface {
	// SendError is called on the shard's goroutine, after the step whose
	// flush failed, outside any other Handler call; err is the conn's
	// error (usually a *net.OpError). At most maxSendErrors reports are
	// kept per step; later failures of the step are only counted.
	SendError(s *Shard, to netip.AddrPort, err error)
}

// sendError is one refused destination, kept until reportSendErrors.
type sendError struct {
	to  netip.AddrPort
	err error
}

// maxSendErrors bounds the send errors a shard keeps between reports.
const maxSendErrors = 16

// rxItem is one routed datagram, or a run of GRO segments, in a shard's
// ring: a reference to buf, whose bytes [off, off+n) hold the datagram, or
// datagrams of seg bytes each (the last may be shorter) when seg > 0.
type rxItem struct {
	buf  *bufpool.Buf
	from netip.AddrPort
	off  int32
	n    int32
	seg  int32
}

// Shard owns a disjoint set of sessions and the goroutine that serves them.
// Its methods other than ID and Engine may be called only from inside
// [Handler.HandleBatch] or [Pumper.Pump] for this shard (the calls the
// engine serializes per shard).
type Shard struct {
	e     *Engine
	id    int
	in    *ring.MPSC[rxItem]
	sendq *ring.MPSC[*bufpool.Buf] // frames encoded by Engine.Send; Buf.Addr is the peer
	rawq  *ring.MPSC[*bufpool.Buf] // raw datagrams from Engine.SendRaw; Buf.Addr is the destination
	sig   *wake.Signal
	stats counters

	items   []rxItem       // popped from in, len BatchSize
	reqs    []*bufpool.Buf // popped from sendq, len BatchSize
	inb     []Inbound      // frames for the next handler call, cap 4*BatchSize
	pending []*bufpool.Buf // references to release after the handler call

	out outQueue

	pump Pumper           // the Handler, if it implements Pumper
	serr SendErrorHandler // the Handler, if it implements SendErrorHandler
	// sendErrs are the destinations the conn refused since the last
	// report (see SendErrorHandler), cap maxSendErrors.
	sendErrs []sendError
	woken    atomic.Bool // Engine.Wake asked for a Pump round
	held     int         // steps whose output was held back (see step)

	// own is held by whichever goroutine runs a step for the shard: the
	// shard goroutine, or the receive loop with Config.InlineDelivery.
	own atomic.Bool
}

func newShard(e *Engine, id int) *Shard {
	b := e.cfg.BatchSize
	s := &Shard{
		e:       e,
		id:      id,
		items:   make([]rxItem, b),
		reqs:    make([]*bufpool.Buf, b),
		inb:     make([]Inbound, 0, 4*b),
		pending: make([]*bufpool.Buf, 0, b+1),
	}
	s.in, s.sendq, s.sig = newRings(&e.cfg)
	s.rawq = ring.NewMPSC[*bufpool.Buf](e.cfg.RawRingSize)
	s.pump, _ = e.h.(Pumper)
	s.serr, _ = e.h.(SendErrorHandler)
	s.sendErrs = make([]sendError, 0, maxSendErrors)
	s.out.init(e, b)
	return s
}

// ID returns the shard's index in [0, Engine.Shards()).
func (s *Shard) ID() int { return s.id }

// Engine returns the engine the shard belongs to.
func (s *Shard) Engine() *Engine { return s.e }

// Flush writes the shard's pending output now instead of at the end of the
// step, even while the Pumper holds it back (see [Pumper]). It may only be
// called from HandleBatch or Pump for s. A node uses it where it must know
// that frames left, such as the SESSION_CLOSEs of a shutdown before the
// engine closes its conn.
func (s *Shard) Flush() {
	s.held = 0
	s.out.flush(s)
}

// idleYields is how many times an idle shard yields before it sleeps.
const idleYields = 4

// maxHeldRounds bounds the loop iterations whose output a shard holds back
// while its Pumper reports more work and the output queue is not half
// full: frames wait at most that many Pump rounds for their WriteBatch.
const maxHeldRounds = 16

// run is the shard goroutine: pop inbound datagrams and send requests,
// deliver, flush, sleep when idle.
func (s *Shard) run() {
	defer s.e.wg.Done()
	idle := 0
	for !s.e.closing.Load() {
		if !s.own.CompareAndSwap(false, true) {
			// The receive loop is running a step for this shard (see
			// Config.InlineDelivery): let it finish.
			runtime.Gosched()
			continue
		}
		n, m, more := s.step()
		s.own.Store(false)
		if more {
			idle = 0
			continue
		}
		if n > 0 || m > 0 {
			s.e.wakeSenders() // buffers and send-ring slots were freed
			idle = 0
			continue
		}
		if idle < idleYields {
			// Yield a few times before sleeping: a producer that is
			// still running refills the ring sooner than a sleep/wake-up
			// cycle (a futex round trip) would take.
			idle++
			runtime.Gosched()
			continue
		}
		idle = 0
		s.sig.Prepare()
		if s.in.Len() > 0 || s.sendq.Len() > 0 || s.rawq.Len() > 0 || s.woken.Load() {
			s.sig.Cancel()
			runtime.Gosched() // a producer may be between reserve and publish
			continue
		}
		if !s.sig.Wait(s.e.done) {
			return
		}
	}
}

// step is one iteration of the shard's work, run by whoever owns the
// shard (s.own): deliver up to BatchSize ring items, move send requests
// into the output, run a Pump round, and flush, unless the Pumper has more
// right away and the output is not full enough yet (then the flush waits
// for a later step, at most maxHeldRounds steps). It returns the ring
// items and send requests handled and whether there is more to do at
// once.
func (s *Shard) step() (n, m int, more bool) {
	n = s.in.PopBatch(s.items)
	if n > 0 {
		s.deliver(s.items[:n])
		clear(s.items[:n])
	}
	m = s.drainSends() + s.drainRaw()
	more = s.woken.Swap(false)
	if s.pump != nil {
		more = s.pump.Pump(s) || more
	}
	if more && s.held < maxHeldRounds && !s.out.ready() {
		// The Pumper has more right away: let it add to the output
		// before the system call, so that one WriteBatch carries many
		// GSO runs instead of one Pump round's worth.
		s.held++
		return n, m, true
	}
	s.held = 0
	s.out.flush(s)
	s.reportSendErrors()
	return n, m, more
}

// reportSendErrors hands the destinations the conn refused to the
// SendErrorHandler, if any, and forgets them. It runs at the end of a step,
// outside every other Handler call, because flushes also happen inside
// them (a full output flushes from Reserve).
func (s *Shard) reportSendErrors() {
	if len(s.sendErrs) == 0 {
		return
	}
	for i, se := range s.sendErrs {
		if s.serr != nil {
			s.serr.SendError(s, se.to, se.err)
		}
		s.sendErrs[i] = sendError{}
	}
	s.sendErrs = s.sendErrs[:0]
}

// stepInline runs one step for the shard on the calling goroutine (the
// receive loop) if no one else owns the shard, and reports whether it did.
// Work left over (more ring items, a Pumper with more) is handed to the
// shard goroutine.
func (s *Shard) stepInline() bool {
	if !s.own.CompareAndSwap(false, true) {
		return false
	}
	n, m, more := s.step()
	s.own.Store(false)
	if more {
		s.woken.Store(true)
	}
	if more || s.in.Len() > 0 {
		s.sig.Notify()
	}
	if n > 0 || m > 0 {
		s.e.wakeSenders()
	}
	return true
}

// drainSends moves send requests into the output queue: batches of up to
// BatchSize, several while the ring stays full, up to sendRounds batches per
// flush, so that a busy sender fills WriteBatch (and GSO) calls. It returns
// how many requests it moved.
func (s *Shard) drainSends() int {
	total := 0
	for r := 0; r < sendRounds; r++ {
		m := s.sendq.PopBatch(s.reqs)
		for i := range s.reqs[:m] {
			s.out.adopt(s, s.reqs[i])
		}
		clear(s.reqs[:m])
		total += m
		if m < len(s.reqs) {
			break
		}
	}
	return total
}

// sendRounds bounds the send-request batches gathered into one flush; the
// output queue holds 8*BatchSize datagrams.
const sendRounds = 8

// deliver decodes every frame of items and calls the handler once per up to
// cap(inb) frames. Each item's reference moves to pending and is released
// after the call that saw the item's last frame.
func (s *Shard) deliver(items []rxItem) {
	for i := range items {
		it := &items[i]
		s.pending = append(s.pending, it.buf)
		data := it.buf.Data()[it.off : it.off+it.n]
		if it.seg <= 0 {
			s.decode(it, data)
			continue
		}
		for seg := int(it.seg); len(data) > 0; {
			k := min(seg, len(data))
			s.decode(it, data[:k])
			data = data[k:]
		}
	}
	s.callHandler()
}

// decode appends the frames of one datagram (data, inside it.buf) to inb.
// A frame that does not decode drops the rest of the datagram; the receive
// loop checked only the first frame's prefix, so a first frame that fails
// here is counted by reason, like the receive loop's drops.
func (s *Shard) decode(it *rxItem, data []byte) {
	maxBody := s.e.cfg.MaxFrameBody
	for first := true; len(data) > 0; first = false {
		if len(s.inb) == cap(s.inb) {
			// The item continues past this call: keep a reference for the
			// next one.
			it.buf.Retain()
			s.callHandler()
			s.pending = append(s.pending, it.buf)
		}
		k := len(s.inb)
		s.inb = s.inb[:k+1]
		in := &s.inb[k]
		used, err := codec.DecodeLimit(data, &in.Frame, maxBody)
		if err != nil {
			s.inb = s.inb[:k]
			if first {
				s.stats.add(dropReason(err), 1)
			} else {
				s.stats.add(cDropBadFrame, 1)
			}
			return
		}
		in.From = it.from
		in.Buf = it.buf
		data = data[used:]
	}
}

// callHandler hands the collected frames to the handler, then releases the
// pending references.
func (s *Shard) callHandler() {
	if len(s.inb) > 0 {
		s.stats.add(cFramesIn, uint64(len(s.inb)))
		s.stats.add(cHandlerCall, 1)
		s.e.h.HandleBatch(s, s.inb)
		s.inb = s.inb[:0]
	}
	for i, b := range s.pending {
		b.Release()
		s.pending[i] = nil
	}
	s.pending = s.pending[:0]
}

// discard releases every buffer the shard still references: ring contents
// and unsent output. Called by Close after the shard goroutine exited.
func (s *Shard) discard() {
	for {
		n := s.in.PopBatch(s.items)
		if n == 0 {
			break
		}
		for i := range s.items[:n] {
			s.items[i].buf.Release()
		}
		clear(s.items[:n])
	}
	for _, q := range [...]*ring.MPSC[*bufpool.Buf]{s.sendq, s.rawq} {
		for {
			m := q.PopBatch(s.reqs)
			if m == 0 {
				break
			}
			for i := range s.reqs[:m] {
				s.reqs[i].Release()
			}
			clear(s.reqs[:m])
		}
	}
	s.out.publish(s)
	s.out.reset()
}
