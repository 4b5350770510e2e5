package engine

import (
	"net/netip"
	"runtime"
	"sync/atomic"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/engine/bufpool"
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
// shards, so HandleBatch is called concurrently from different shard
// goroutines, but never concurrently for the same shard: per-shard state
// indexed by [Shard.ID] needs no locks, and every session's frames arrive on
// the one shard that owns it.
type Handler interface {
	// HandleBatch is called on shard s's goroutine with up to a few batches'
	// worth of frames, in arrival order. batch and its elements are valid
	// only during the call (see Inbound.Buf to keep a frame). The handler may
	// queue replies with s.Send; they are flushed after the call.
	HandleBatch(s *Shard, batch []Inbound)
}

// Pumper is an optional interface of a [Handler] that also produces frames
// on its own (queued stream data, retransmissions): the shard calls Pump on
// its goroutine, where [Shard.Send] encodes straight into the output, with
// neither the copy nor the hand-off of [Engine.Send].
type Pumper interface {
	// Pump is called on shard s's goroutine once per loop iteration, after
	// received frames were handled and before the output is flushed. It
	// may call s.Send. It reports whether it has more to send right away:
	// true keeps the shard looping; false lets it sleep until traffic
	// arrives or [Engine.Wake] is called for the shard.
	Pump(s *Shard) (more bool)
}

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
// Its methods other than ID and Engine may be called only from that
// goroutine, i.e. from inside [Handler.HandleBatch].
type Shard struct {
	e     *Engine
	id    int
	in    *ring.MPSC[rxItem]
	sendq *ring.MPSC[*bufpool.Buf] // frames encoded by Engine.Send; Buf.Addr is the peer
	sig   *ring.Signal
	stats counters

	items   []rxItem       // popped from in, len BatchSize
	reqs    []*bufpool.Buf // popped from sendq, len BatchSize
	inb     []Inbound      // frames for the next handler call, cap 4*BatchSize
	pending []*bufpool.Buf // references to release after the handler call

	out outQueue

	pump  Pumper      // the Handler, if it implements Pumper
	woken atomic.Bool // Engine.Wake asked for a Pump round
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
	s.pump, _ = e.h.(Pumper)
	s.out.init(e, b)
	return s
}

// ID returns the shard's index in [0, Engine.Shards()).
func (s *Shard) ID() int { return s.id }

// Engine returns the engine the shard belongs to.
func (s *Shard) Engine() *Engine { return s.e }

// idleYields is how many times an idle shard yields before it sleeps.
const idleYields = 4

// run is the shard goroutine: pop inbound datagrams and send requests,
// deliver, flush, sleep when idle.
func (s *Shard) run() {
	defer s.e.wg.Done()
	idle := 0
	for !s.e.closing.Load() {
		n := s.in.PopBatch(s.items)
		if n > 0 {
			s.deliver(s.items[:n])
			clear(s.items[:n])
		}
		m := s.drainSends()
		more := s.woken.Swap(false)
		if s.pump != nil {
			more = s.pump.Pump(s) || more
		}
		s.out.flush(s)
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
		if s.in.Len() > 0 || s.sendq.Len() > 0 || s.woken.Load() {
			s.sig.Cancel()
			runtime.Gosched() // a producer may be between reserve and publish
			continue
		}
		if !s.sig.Wait(s.e.done) {
			return
		}
	}
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
// A frame that does not decode drops the rest of the datagram.
func (s *Shard) decode(it *rxItem, data []byte) {
	maxBody := s.e.cfg.MaxFrameBody
	for len(data) > 0 {
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
			s.stats.add(cDropBadFrame, 1)
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
	for {
		m := s.sendq.PopBatch(s.reqs)
		if m == 0 {
			break
		}
		for i := range s.reqs[:m] {
			s.reqs[i].Release()
		}
		clear(s.reqs[:m])
	}
	s.out.reset()
}
