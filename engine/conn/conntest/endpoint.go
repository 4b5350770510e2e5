package conntest

import (
	"net"
	"net/netip"
	"sync"

	"github.com/sttgo/stt/engine/conn"
	"github.com/sttgo/stt/internal/wake"
)

var _ conn.Batch = (*Endpoint)(nil)

// Endpoint is one bound address of a Network, implementing [conn.Batch].
// ReadBatch must be called from one goroutine at a time; WriteBatch is safe
// for concurrent use. Both copy bytes and never retain the caller's buffers.
type Endpoint struct {
	net  *Network
	addr netip.AddrPort

	mu       sync.Mutex
	slots    []slot // ring, len = Config.QueueLen
	head, n  int
	closed   bool
	received uint64
	dropped  uint64
	trunc    uint64
	notify   wake.Signal   // "the queue may be non-empty"
	done     chan struct{} // closed by Close
}

type slot struct {
	buf  []byte
	from netip.AddrPort
}

// EndpointStats counts an Endpoint's receive side.
type EndpointStats struct {
	// Received counts datagrams queued for ReadBatch.
	Received uint64
	// Dropped counts datagrams dropped because the queue was full.
	Dropped uint64
	// Truncated counts datagrams larger than the Buf offered to ReadBatch
	// (reported with N == 0, as conn.UDPConn does).
	Truncated uint64
	// Queued is the number of datagrams waiting now.
	Queued int
}

func newEndpoint(nw *Network, addr netip.AddrPort) *Endpoint {
	e := &Endpoint{
		net:   nw,
		addr:  addr,
		slots: make([]slot, nw.cfg.QueueLen),
		done:  make(chan struct{}),
	}
	e.notify.Init()
	return e
}

// LocalAddr returns the Endpoint's address.
func (e *Endpoint) LocalAddr() netip.AddrPort { return e.addr }

// Caps reports GSO (unless Config.DisableGSO), no GRO, and the configured
// batch size.
func (e *Endpoint) Caps() conn.Caps {
	c := conn.Caps{BatchSize: e.net.cfg.BatchSize, MaxSegments: 1}
	if !e.net.cfg.DisableGSO {
		c.GSO, c.MaxSegments = true, conn.MaxGSOSegments
	}
	return c
}

// Stats returns the receive counters.
func (e *Endpoint) Stats() EndpointStats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return EndpointStats{Received: e.received, Dropped: e.dropped, Truncated: e.trunc, Queued: e.n}
}

// Close unbinds the address (later datagrams to it count as NoRoute) and
// unblocks ReadBatch, which then returns net.ErrClosed. Queued datagrams
// are discarded.
func (e *Endpoint) Close() error {
	nw := e.net
	nw.mu.Lock()
	if nw.eps[e.addr] == e {
		delete(nw.eps, e.addr)
	}
	nw.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	e.n = 0
	close(e.done)
	return nil
}

// enqueue copies a datagram into the queue; false when full or closed.
// Called with Network.mu held.
func (e *Endpoint) enqueue(from netip.AddrPort, data []byte) bool {
	e.mu.Lock()
	if e.closed || e.n == len(e.slots) {
		if !e.closed {
			e.dropped++
		}
		e.mu.Unlock()
		return false
	}
	s := &e.slots[(e.head+e.n)%len(e.slots)]
	s.buf = append(s.buf[:0], data...)
	s.from = from
	e.n++
	e.received++
	e.mu.Unlock()
	e.notify.Notify()
	return true
}

// ReadBatch blocks until a datagram is queued, then copies up to
// min(len(msgs), Caps().BatchSize) datagrams into msgs (N, Addr; SegSize 0).
// Every Buf must be non-empty. After Close it returns net.ErrClosed.
func (e *Endpoint) ReadBatch(msgs []conn.Message) (int, error) {
	lim := min(len(msgs), e.net.cfg.BatchSize)
	if lim == 0 {
		return 0, nil
	}
	for i := range lim {
		if len(msgs[i].Buf) == 0 {
			return 0, ErrInvalidMessage
		}
	}
	for {
		e.mu.Lock()
		if e.closed {
			e.mu.Unlock()
			return 0, net.ErrClosed
		}
		if e.n > 0 {
			k := 0
			for ; k < lim && e.n > 0; k++ {
				s := &e.slots[e.head]
				m := &msgs[k]
				m.Addr, m.SegSize = s.from, 0
				if len(s.buf) > len(m.Buf) {
					m.N = 0
					e.trunc++
				} else {
					m.N = copy(m.Buf, s.buf)
				}
				e.head = (e.head + 1) % len(e.slots)
				e.n--
			}
			e.mu.Unlock()
			return k, nil
		}
		e.notify.Prepare() // under e.mu, where deliver queues
		e.mu.Unlock()
		e.notify.Wait(e.done)
	}
}

// WriteBatch sends each Message in order through the Network's impairment
// layer (a segmented Message as separate datagrams) and returns how many
// were handed over; n < len(msgs) comes with an error (ErrInvalidMessage,
// ErrTooLarge, net.ErrClosed). Like UDP, a datagram lost or dropped on the
// way is not an error: see Network.LinkStats.
func (e *Endpoint) WriteBatch(msgs []conn.Message) (int, error) {
	nw := e.net
	nw.mu.Lock()
	defer nw.mu.Unlock()
	if nw.closed || nw.eps[e.addr] != e {
		return 0, net.ErrClosed
	}
	for i := range msgs {
		m := &msgs[i]
		if m.N < 0 || m.N > len(m.Buf) || m.SegSize < 0 || !m.Addr.IsValid() {
			return i, ErrInvalidMessage
		}
		seg := m.N
		if m.SegSize > 0 && m.SegSize < m.N {
			seg = m.SegSize
		}
		if seg > MaxDatagram {
			return i, ErrTooLarge
		}
		l := nw.link(e.addr, m.Addr)
		for off := 0; ; {
			end := min(off+seg, m.N)
			l.send(nw, m.Buf[off:end])
			off = end
			if off >= m.N {
				break
			}
		}
	}
	return len(msgs), nil
}
