package engine

import (
	"net/netip"

	"github.com/sttgo/stt/codec"
)

// ReserveLimit is Reserve for a frame of a session whose path carries
// datagrams of up to limit bytes (path MTU discovery raised it above the
// engine's MTU): the frame may be coalesced with earlier frames of the same
// peer and session only while the datagram stays within limit, so a larger
// datagram never carries another session's frames. Pass limit = n to send a
// frame alone (a PMTU probe). With limit at or below the MTU it is Reserve.
// n may exceed the MTU, up to limit, the buffer size and 65507 bytes.
// Shard goroutine only. Errors as for [Shard.Send]. It does not allocate.
func (s *Shard) ReserveLimit(to netip.AddrPort, h *codec.Header, n, limit int) ([]byte, error) {
	q := &s.out
	if limit <= s.e.cfg.MTU {
		return s.Reserve(to, h, n)
	}
	if n > limit || n > q.limit || n > maxUDPPayload {
		return nil, ErrFrameTooLarge
	}
	k := keyOf(to, h)
	ti, slot := q.lookup(s, &k)
	if ti >= 0 {
		if dst := q.spaceWithin(&q.trains[ti], n, min(limit, maxUDPPayload)); dst != nil {
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
		q.flush(s)
		if b = s.e.pool.Get(); b == nil {
			s.stats.add(cSendBackpressure, 1)
			return nil, ErrBackpressure
		}
	}
	if n > b.Size() {
		b.Release()
		return nil, ErrFrameTooLarge
	}
	q.newTrain(b, &k, slot, n)
	q.frames++
	q.bytes += n
	return b.Data()[:n], nil
}

// spaceWithin is space with a per-call datagram bound mtu instead of the
// engine's MTU.
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
