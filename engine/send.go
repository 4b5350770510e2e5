package engine

import (
	"math/bits"
	"net/netip"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/engine/bufpool"
	"github.com/sttgo/stt/engine/conn"
)

// A shard's output is a set of trains: one pool buffer per (peer, routing
// key) holding consecutive datagrams, back to back. The routing key is the
// session id, or "handshake" for HANDSHAKE frames, because the receiving
// engine routes a whole datagram by its first frame: frames of different
// sessions (or a handshake and a session frame) never share a datagram.
// Frames with the same key are appended to the train's last datagram while it stays within the MTU;
// otherwise a new datagram starts right after it in the same buffer. At
// flush, each datagram becomes one Message; with GSO, a run of equal-size
// datagrams (plus at most one shorter final one) that are contiguous in the
// buffer becomes one Message with SegSize set, without copying.

// trainKey says which frames may share a datagram.
type trainKey struct {
	to  netip.AddrPort
	sid codec.SessionID
	hs  bool // HANDSHAKE frames (routed by address): sid is ignored
}

func keyOf(to netip.AddrPort, h *codec.Header) trainKey {
	if h.Type == codec.TypeHandshake {
		return trainKey{to: to, hs: true}
	}
	return trainKey{to: to, sid: h.SessionID}
}

// train is the output buffer for one trainKey.
type train struct {
	buf   *bufpool.Buf
	key   trainKey
	slot  int32 // index in outQueue.table
	first int32 // first datagram (index in outQueue.dgs)
	last  int32 // last datagram, the one still open for frames
}

// dgram is one datagram inside a train's buffer.
type dgram struct {
	off, n int32
	next   int32 // next datagram of the same train, -1 at the end
	solo   bool  // sent alone, never in a GSO run (a PMTU probe: see ReserveLimit)
}

// outQueue is a shard's pending output. Shard goroutine only.
type outQueue struct {
	trains []train        // cap BatchSize
	dgs    []dgram        // cap 8*BatchSize, or gsoDgramsPerBatch*BatchSize with GSO
	msgs   []conn.Message // len cap(dgs), reused by every flush
	table  []int32        // key hash -> train index+1 (0: none); power-of-two length
	mtu    int
	limit  int  // bytes usable in one train buffer
	gso    bool // the conn had GSO at New
	// last is the index of the train the previous frame went into (-1:
	// none): consecutive frames to the same peer and session, the common
	// case of a bulk sender, skip the hash lookup.
	last int32
	// frames counts the frames queued since the last publish to the
	// shard's TxFrames counter (published per flush, not per frame: an
	// atomic add per frame costs more than the rest of Reserve).
	frames uint64
	// bytes counts the frame bytes queued since the last flush; see ready.
	bytes int
	// raw counts the raw datagrams (Engine.SendRaw) queued since the last
	// publish, like frames.
	raw uint64
	// flushDgrams and flushBytes are the datagram and byte counts at
	// which ready reports a full enough WriteBatch.
	flushDgrams, flushBytes int
}

// gsoDgramsPerBatch is how many datagrams per BatchSize the output queue
// holds when the conn has GSO, so that a flush can carry many GSO Messages
// instead of a few per system call.
const gsoDgramsPerBatch = 32

// readyGSOMessages is how many full GSO Messages' worth of output make a
// flush worth its system call (see outQueue.ready): about 8 is enough to
// amortize the call, while keeping the bytes in flight (8 x 64 KiB)
// within the CPU's cache for the kernel's copy.
const readyGSOMessages = 8

func (q *outQueue) init(e *Engine, batch int) {
	nd := 8 * batch
	if e.caps.GSO {
		nd = gsoDgramsPerBatch * batch
	}
	q.trains = make([]train, 0, batch)
	q.dgs = make([]dgram, 0, nd)
	q.msgs = make([]conn.Message, nd)
	q.table = make([]int32, 1<<bits.Len(uint(4*batch-1))) // a power of two >= 4*batch, masked by lookup
	q.mtu = e.cfg.MTU
	q.limit = e.cfg.BufferSize
	q.last = -1
	q.flushDgrams, q.flushBytes = batch, batch*q.mtu
	if e.caps.GSO {
		q.limit = min(q.limit, maxGSOBytes)
		q.gso = true
		segs := max(e.caps.MaxSegments, 1)
		q.flushDgrams = min(nd/2, readyGSOMessages*segs)
		q.flushBytes = readyGSOMessages * q.limit
	}
}

// ready reports whether enough output is queued that a flush fills a
// WriteBatch: BatchSize datagrams without GSO; with GSO about
// readyGSOMessages full GSO Messages (by datagrams or bytes); or half the
// trains in use (many peers or sessions).
func (q *outQueue) ready() bool {
	return len(q.dgs) >= q.flushDgrams || q.bytes >= q.flushBytes || 2*len(q.trains) >= cap(q.trains)
}

// lookup returns the index of the train for k (-1 if none) and k's table slot: the
// slot holding k's train, or the empty slot where k's train goes. The table
// is open-addressed with linear probing; it has at least four slots per
// train, so an empty slot always exists and probes stay short.
func (q *outQueue) lookup(s *Shard, k *trainKey) (int32, int32) {
	h := s.e.hashAddr(k.to) ^ mix64(k.sid.Uint64())
	mask := uint64(len(q.table) - 1)
	for i := uint64(0); ; i++ {
		slot := int32((h + i) & mask)
		ti := q.table[slot] - 1
		if ti < 0 {
			return -1, slot
		}
		if q.trains[ti].key == *k {
			return ti, slot
		}
	}
}

// space returns n bytes of t's buffer for a frame: at the end of the open
// datagram if it stays within the MTU, else as a new datagram after it.
// It returns nil if the buffer or the datagram table is full.
func (q *outQueue) space(t *train, n int) []byte { return q.spaceWithin(t, n, q.mtu) }

// spaceWithin is space with the datagram bound mtu instead of the MTU.
func (q *outQueue) spaceWithin(t *train, n, mtu int) []byte {
	d := &q.dgs[t.last]
	end := int(d.off + d.n)
	limit := min(q.limit, t.buf.Size())
	if int(d.n)+n <= mtu && end+n <= limit {
		d.n += int32(n)
		return t.buf.Data()[end : end+n]
	}
	if end+n > limit || len(q.dgs) == cap(q.dgs) {
		return nil
	}
	q.dgs = append(q.dgs, dgram{off: int32(end), n: int32(n), next: -1})
	d.next = int32(len(q.dgs) - 1)
	t.last = d.next
	return t.buf.Data()[end : end+n]
}

// newTrain starts a train for k in b, whose first n bytes already hold a
// datagram (n may be 0: empty train). The caller checked there is room in
// trains and dgs.
func (q *outQueue) newTrain(b *bufpool.Buf, k *trainKey, slot int32, n int) *train {
	q.dgs = append(q.dgs, dgram{off: 0, n: int32(n), next: -1})
	di := int32(len(q.dgs) - 1)
	q.trains = append(q.trains, train{buf: b, key: *k, slot: slot, first: di, last: di})
	q.table[slot] = int32(len(q.trains))
	q.last = int32(len(q.trains) - 1)
	return &q.trains[q.last]
}

// full reports whether a new train cannot be started without a flush.
func (q *outQueue) full() bool {
	return len(q.trains) == cap(q.trains) || len(q.dgs) == cap(q.dgs)
}

// Send queues f for peer to. It encodes f directly into the shard's output
// (coalesced up to the MTU with earlier frames to the same peer and session,
// see the package documentation on routing); the shard
// sends it with its next WriteBatch, after the current Handler call. f is
// not retained. Shard goroutine only (from inside HandleBatch). Errors:
// [ErrFrameTooLarge] if f's encoding exceeds the MTU, [ErrBackpressure] if no
// pool buffer is free even after flushing the queued output. It does not
// allocate.
func (s *Shard) Send(to netip.AddrPort, f *codec.Frame) error {
	dst, err := s.Reserve(to, &f.Header, f.EncodedLen())
	if err != nil {
		return err
	}
	_, err = f.Encode(dst) // cannot fail: dst holds exactly EncodedLen bytes
	return err
}

// Reserve returns n bytes of the shard's output for one frame to peer to
// whose header is h (h's type and session id choose the datagram it is
// coalesced into), so the caller can encode or seal the frame in place
// instead of handing Send a frame to copy. The caller must write exactly one
// complete n-byte frame into the returned slice before returning to the
// shard loop: the bytes are sent as they are. Bytes between len and cap of
// the slice are unsent free space the caller may use as scratch. Shard
// goroutine only. Errors as for [Shard.Send]. It does not allocate.
func (s *Shard) Reserve(to netip.AddrPort, h *codec.Header, n int) ([]byte, error) {
	if n > s.e.cfg.MTU {
		return nil, ErrFrameTooLarge
	}
	q := &s.out
	if q.last >= 0 {
		// Same peer and session as the previous frame: q.last is the
		// newest train for that key (every older train of the key is full
		// or superseded), so no lookup is needed. The fields are compared
		// in place: building a trainKey first costs a store-forwarding
		// stall per frame.
		t := &q.trains[q.last]
		hs := h.Type == codec.TypeHandshake
		if t.key.to == to && t.key.hs == hs && (hs || t.key.sid == h.SessionID) {
			if dst := q.space(t, n); dst != nil {
				q.frames++
				q.bytes += n
				return dst, nil
			}
		}
	}
	k := keyOf(to, h)
	return q.reserve(s, &k, n, q.mtu)
}

// reserve returns n bytes of output space for a frame with key k that may
// share a datagram up to mtu bytes, after Reserve's fast path for the
// previous frame's train did not apply.
func (q *outQueue) reserve(s *Shard, k *trainKey, n, mtu int) ([]byte, error) {
	ti, slot := q.lookup(s, k)
	if ti >= 0 {
		if dst := q.spaceWithin(&q.trains[ti], n, mtu); dst != nil {
			q.last = ti
			q.frames++
			q.bytes += n
			return dst, nil
		}
	}
	if q.full() {
		q.flush(s)
	}
	b := s.e.pool.Get()
	if b == nil {
		q.flush(s) // releases the output buffers
		if b = s.e.pool.Get(); b == nil {
			s.stats.add(cSendBackpressure, 1)
			return nil, ErrBackpressure
		}
	}
	if n > b.Size() {
		b.Release()
		return nil, ErrFrameTooLarge
	}
	q.newTrain(b, k, slot, n)
	q.frames++
	q.bytes += n
	return b.Data()[:n], nil
}

// reqKey returns the train key of the frame Engine.Send encoded into b.
func reqKey(b *bufpool.Buf) trainKey {
	p := b.Bytes()
	_, _, h, err := codec.Peek(p, codec.DefaultMaxBody)
	if err != nil {
		// Cannot happen: Engine.Send encoded one whole frame of at most
		// MTU bytes. Any key would do; the frame is sent as it is.
		return trainKey{to: b.Addr, hs: true}
	}
	var hd codec.Header
	hd.Parse(p[h:])
	return keyOf(b.Addr, &hd)
}

// adopt queues the encoded frame in b (a send-pool buffer whose Addr is
// the peer; the caller's reference passes to the queue). The frame is copied into an
// existing train for k if there is room; otherwise, with GSO, into a new
// train from the main pool (large, so that later frames can join it); else
// b itself becomes the new train, without a copy.
func (q *outQueue) adopt(s *Shard, b *bufpool.Buf) {
	n := b.Len()
	q.frames++
	q.bytes += n
	key := reqKey(b)
	k := &key
	ti, slot := q.lookup(s, k)
	if ti >= 0 {
		if dst := q.space(&q.trains[ti], n); dst != nil {
			q.last = ti
			copy(dst, b.Bytes())
			b.Release()
			return
		}
	}
	if q.full() {
		q.flush(s)
	}
	if q.gso {
		if big := s.e.pool.Get(); big != nil {
			copy(big.Data(), b.Bytes())
			b.Release()
			b = big
		}
	}
	q.newTrain(b, k, slot, n)
}

// flush sends every queued datagram with one WriteBatch and releases the
// output buffers. With GSO, equal-size contiguous datagrams of one train
// travel as one Message.
func (q *outQueue) flush(s *Shard) {
	q.publish(s)
	if len(q.trains) == 0 {
		return
	}
	caps := s.e.c.Caps()
	maxSeg := caps.MaxSegments
	if !caps.GSO || maxSeg < 2 {
		maxSeg = 1
	}
	msgs := q.msgs[:0]
	var bytes, gso uint64
	for ti := range q.trains {
		t := &q.trains[ti]
		data := t.buf.Data()
		for di := t.first; di >= 0; {
			d := q.dgs[di]
			if d.n == 0 { // empty train
				break
			}
			seg, start, end, cnt := d.n, d.off, d.off+d.n, 1
			di = d.next
			for di >= 0 && cnt < maxSeg && !d.solo {
				nd := q.dgs[di]
				if nd.n > seg || nd.solo {
					break
				}
				end += nd.n
				cnt++
				di = nd.next
				if nd.n < seg { // a shorter segment must be the last one
					break
				}
			}
			m := conn.Message{Buf: data[start:end], N: int(end - start), Addr: t.key.to}
			if cnt > 1 {
				m.SegSize = int(seg)
				gso++
			}
			bytes += uint64(m.N)
			msgs = append(msgs, m)
		}
	}
	dgrams := uint64(len(q.dgs))
	s.stats.add(cTxMessages, uint64(len(msgs)))
	s.stats.add(cTxGSOMessages, gso)
	for rest := msgs; len(rest) > 0; {
		sent, err := s.e.c.WriteBatch(rest)
		s.stats.add(cTxBatches, 1)
		if err == nil {
			break
		}
		// rest[sent] failed. A closed conn loses everything left; any
		// other error (a destination of the wrong family, an unreachable
		// network) belongs to that one destination: drop that Message,
		// keep the error for the handler (reportSendErrors), send the rest.
		s.stats.add(cTxErrors, 1)
		if rest = rest[sent:]; len(rest) == 0 {
			break
		}
		failed := rest[:1]
		if isClosedErr(err) || len(s.sendErrs) == cap(s.sendErrs) {
			failed = rest
		} else {
			s.sendErrs = append(s.sendErrs, sendError{to: rest[0].Addr, err: err})
		}
		lost, lostBytes := countDatagrams(failed)
		s.stats.add(cTxDropped, lost)
		dgrams -= lost
		bytes -= lostBytes
		rest = rest[len(failed):]
	}
	s.stats.add(cTxDatagrams, dgrams)
	s.stats.add(cTxBytes, bytes)
	clear(msgs)
	q.reset()
}

// publish adds the frames queued since the last publish to the shard's
// TxFrames counter.
func (q *outQueue) publish(s *Shard) {
	if q.frames > 0 {
		s.stats.add(cTxFrames, q.frames)
		q.frames = 0
	}
	if q.raw > 0 {
		s.stats.add(cTxRaw, q.raw)
		q.raw = 0
	}
}

// reset releases the output buffers and empties the queue.
func (q *outQueue) reset() {
	q.last, q.bytes = -1, 0
	for i := range q.trains {
		t := &q.trains[i]
		if t.slot >= 0 { // raw trains (adoptRaw) are not in the table
			q.table[t.slot] = 0
		}
		t.buf.Release()
		*t = train{}
	}
	q.trains = q.trains[:0]
	q.dgs = q.dgs[:0]
}

// countDatagrams returns the datagrams and bytes msgs carry (a GSO Message
// counts each segment).
func countDatagrams(msgs []conn.Message) (n, bytes uint64) {
	for _, m := range msgs {
		n++
		if m.SegSize > 0 {
			n += uint64((m.N+m.SegSize-1)/m.SegSize) - 1
		}
		bytes += uint64(m.N)
	}
	return n, bytes
}
