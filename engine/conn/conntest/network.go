// Package conntest is an in-memory [conn.Batch] for tests of the layers above
// the socket: a [Network] hands out [Endpoint]s with netip.AddrPort addresses
// and carries datagrams between them through bounded queues, copying the
// bytes. A deterministic impairment layer (seeded PCG) adds loss,
// duplication, reordering, delay with jitter and a rate limit per direction,
// changeable at run time.
//
// Determinism: every link (ordered pair of addresses) draws from its own
// PCG stream seeded by Config.Seed and the two addresses, four draws per
// datagram in send order, whatever the settings. With one sending goroutine
// per link, the same seed loses, duplicates and holds back exactly the same
// datagrams on every run. Delay, jitter, the rate limit and the release of
// held-back datagrams by ReorderTimeout use real time (timers), so only
// their counts, not their timing, are deterministic.
//
// Memory: the undelayed path does not allocate in steady state (receive
// queue slots keep their buffers); delayed and held-back datagrams use a
// bounded per-link free list.
package conntest

import (
	"errors"
	"hash/fnv"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Defaults for zero Config fields.
const (
	DefaultQueueLen    = 1024
	DefaultBatchSize   = 64
	DefaultMaxInFlight = 4096
	// MaxDatagram is the largest datagram an Endpoint carries.
	MaxDatagram = 65535
)

// Errors.
var (
	// ErrAddrInUse is returned by Listen for an address already bound.
	ErrAddrInUse = errors.New("conntest: address already in use")
	// ErrBadImpairment is returned for out-of-range Impairment fields.
	ErrBadImpairment = errors.New("conntest: impairment out of range")
	// ErrTooLarge is returned by WriteBatch for a datagram over MaxDatagram.
	ErrTooLarge = errors.New("conntest: datagram too large")
	// ErrInvalidMessage is returned by WriteBatch for N out of range, a
	// negative SegSize or an invalid address, and by ReadBatch for an empty Buf.
	ErrInvalidMessage = errors.New("conntest: invalid message")
)

// Config configures a Network. The zero value is usable.
type Config struct {
	// Seed seeds every link's PCG stream.
	Seed uint64
	// QueueLen bounds each Endpoint's receive queue in datagrams (default
	// DefaultQueueLen). A datagram arriving at a full queue is dropped and
	// counted.
	QueueLen int
	// BatchSize is what Caps().BatchSize reports and the most Messages one
	// ReadBatch fills (default DefaultBatchSize).
	BatchSize int
	// DisableGSO makes Caps().GSO false. Segmented Messages are split into
	// datagrams either way (as a kernel delivers GSO to a plain receiver).
	DisableGSO bool
	// MaxInFlight bounds each link's delayed, rate-limited or held-back
	// datagrams (default DefaultMaxInFlight); beyond it they are dropped and
	// counted as Overflow.
	MaxInFlight int
}

// Network is a set of in-memory endpoints and the links between them. All
// methods are safe for concurrent use.
type Network struct {
	cfg Config

	mu     sync.Mutex
	eps    map[netip.AddrPort]*Endpoint
	links  map[linkKey]*link
	def    Impairment
	next   uint32
	closed bool
}

// NewNetwork returns an empty network.
func NewNetwork(cfg Config) *Network {
	if cfg.QueueLen <= 0 {
		cfg.QueueLen = DefaultQueueLen
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	return &Network{cfg: cfg, eps: map[netip.AddrPort]*Endpoint{}, links: map[linkKey]*link{}}
}

// NewEndpoint binds a fresh address 10.0.x.y:4000 (x.y counting up from
// 0.1) and returns its Endpoint.
func (n *Network) NewEndpoint() (*Endpoint, error) {
	n.mu.Lock()
	for {
		n.next++
		ap := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(n.next >> 8), byte(n.next)}), 4000)
		if _, used := n.eps[ap]; !used && byte(n.next) != 0 {
			n.mu.Unlock()
			return n.Listen(ap)
		}
	}
}

// Listen binds addr (any IPv4 or IPv6 address and port) and returns its
// Endpoint, or ErrAddrInUse.
func (n *Network) Listen(addr netip.AddrPort) (*Endpoint, error) {
	if !addr.IsValid() {
		return nil, ErrInvalidMessage
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil, net.ErrClosed
	}
	if _, used := n.eps[addr]; used {
		return nil, ErrAddrInUse
	}
	e := newEndpoint(n, addr)
	n.eps[addr] = e
	return e, nil
}

// SetDefault sets the impairment of every link without its own setting
// (SetLink), from now on, including links already in use.
func (n *Network) SetDefault(imp Impairment) error {
	if err := imp.validate(); err != nil {
		return err
	}
	n.mu.Lock()
	n.def = imp
	n.mu.Unlock()
	return nil
}

// SetLink sets the impairment of the direction from -> to (only that
// direction), from now on.
func (n *Network) SetLink(from, to netip.AddrPort, imp Impairment) error {
	if err := imp.validate(); err != nil {
		return err
	}
	n.mu.Lock()
	l := n.link(from, to)
	l.imp, l.explicit = imp, true
	n.mu.Unlock()
	return nil
}

// ClearLink makes the direction from -> to follow the default again.
func (n *Network) ClearLink(from, to netip.AddrPort) {
	n.mu.Lock()
	l := n.link(from, to)
	l.imp, l.explicit = Impairment{}, false
	n.mu.Unlock()
}

// LinkStats returns the counters of the direction from -> to.
func (n *Network) LinkStats(from, to netip.AddrPort) LinkStats {
	n.mu.Lock()
	defer n.mu.Unlock()
	if l := n.links[linkKey{from, to}]; l != nil {
		return l.stats
	}
	return LinkStats{}
}

// Flush releases every held-back datagram now, on every link (delayed ones
// keep their schedule).
func (n *Network) Flush() {
	n.mu.Lock()
	for _, l := range n.links {
		l.releaseHeld(n)
	}
	n.mu.Unlock()
}

// Close closes every Endpoint and stops all timers; datagrams in flight are
// discarded.
func (n *Network) Close() error {
	n.mu.Lock()
	n.closed = true
	eps := make([]*Endpoint, 0, len(n.eps))
	for _, e := range n.eps {
		eps = append(eps, e)
	}
	for _, l := range n.links {
		if l.timer != nil {
			l.timer.Stop()
		}
		if l.heldTimer != nil {
			l.heldTimer.Stop()
		}
	}
	n.mu.Unlock()
	for _, e := range eps {
		e.Close()
	}
	return nil
}

// link returns (creating) the state of from -> to. Called with n.mu held.
func (n *Network) link(from, to netip.AddrPort) *link {
	k := linkKey{from, to}
	if l := n.links[k]; l != nil {
		return l
	}
	h := fnv.New64a()
	b, _ := from.MarshalBinary()
	h.Write(b)
	b, _ = to.MarshalBinary()
	h.Write(b)
	l := &link{key: k, rng: rand.New(rand.NewPCG(n.cfg.Seed, h.Sum64()))}
	n.links[k] = l
	return l
}

// deliver hands one datagram to its destination queue. Called with n.mu
// held.
func (n *Network) deliver(l *link, data []byte) {
	dst := n.eps[l.key.to]
	if dst == nil {
		l.stats.NoRoute++
		return
	}
	if !dst.enqueue(l.key.from, data) {
		l.stats.QueueDropped++
		return
	}
	l.stats.Delivered++
}

// now is the clock of delays and rate limits.
func now() time.Time { return time.Now() }
