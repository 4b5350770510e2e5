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
	b, err := q.reserve(s, &k, n, min(limit, maxUDPPayload))
	if err == nil && limit == n {
		// Alone also in its GSO message: a probe larger than the path
		// allows must fail alone (EMSGSIZE), and must not become the
		// segment size of a run, which the kernel rejects with the data
		// datagrams that follow it.
		q.dgs[q.trains[q.last].last].solo = true
	}
	return b, err
}
