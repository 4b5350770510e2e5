package turnconn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/logging"
	"github.com/pion/turn/v4"

	"github.com/sttgo/stt/engine/conn"
)

// deadliner is the UDP socket's read deadline, forwarded by
// Mux.SetReadDeadline.
type deadliner interface {
	SetReadDeadline(t time.Time) error
}

var _ conn.Batch = (*Mux)(nil)

// Mux is a conn.Batch over a UDP socket that also relays datagrams through
// TURN allocations on up to MaxServers servers. Each (allocation, peer)
// pair appears as a synthetic address (see addr.go): WriteBatch frames
// datagrams to it as ChannelData (Send indications until the channel is
// bound) to the allocation's server, and ReadBatch returns what the server
// relays from the peer with that address as source. Datagrams to and from
// other addresses pass through unchanged.
type Mux struct {
	udp  conn.Batch
	dl   deadliner
	cfg  Config
	pfx  conn.Synthetic
	seq  atomic.Uint64
	srvs []*server // fixed at New
	tc   *turn.Client

	mu     sync.RWMutex
	peers  map[netip.AddrPort]*peer // by synthetic address
	npeers int

	pool     chan *scratch // WriteBatch's scratch buffers
	nScratch atomic.Int32
	ovf      overflow // ReadBatch only

	ctr    counters
	ctx    context.Context // ends at Close; the control goroutines' requests use it
	cancel context.CancelFunc
	wg     sync.WaitGroup // allocation workers
	closed atomic.Bool
	once   sync.Once
}

// server is one configured TURN server and its credentials.
type server struct {
	cfg   Server
	addr  netip.AddrPort // resolved, unmapped
	uaddr *net.UDPAddr

	mu       sync.Mutex
	realm    string
	nonce    string
	key      []byte // long-term key, nil before the first 401
	inflight chan struct{}
	lastErr  error

	alloc atomic.Pointer[allocation] // the live allocation, nil if none
}

// New returns a Mux over udp, which it takes ownership of; udp must have
// SetReadDeadline (as *conn.UDPConn has). It resolves the servers'
// addresses but sends nothing: call Allocate, with ReadBatch running.
func New(udp conn.Batch, cfg Config) (*Mux, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	dl, ok := udp.(deadliner)
	if !ok {
		return nil, fmt.Errorf("turnconn: the UDP conn (%T) has no SetReadDeadline", udp)
	}
	m := &Mux{
		udp:   udp,
		dl:    dl,
		cfg:   cfg,
		pfx:   conn.NewSynthetic(addrSubnet, addrPort),
		peers: make(map[netip.AddrPort]*peer),
		pool:  make(chan *scratch, maxScratch),
	}
	for _, s := range cfg.Servers {
		ua, err := net.ResolveUDPAddr("udp", s.Addr)
		if err != nil {
			return nil, fmt.Errorf("turnconn: TURN server %q: %w", s.Addr, err)
		}
		ap := ua.AddrPort()
		ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		m.srvs = append(m.srvs, &server{cfg: s, addr: ap, uaddr: net.UDPAddrFromAddrPort(ap), realm: s.Realm})
	}
	// pion's client logs errors to stderr by default (and more if PION_LOG_*
	// is set): a library stays silent, so its logger discards everything.
	quiet := &logging.DefaultLoggerFactory{Writer: io.Discard, DefaultLogLevel: logging.LogLevelDisabled}
	tc, err := turn.NewClient(&turn.ClientConfig{Conn: packetConn{m}, RTO: cfg.RTO, LoggerFactory: quiet})
	if err != nil {
		return nil, fmt.Errorf("turnconn: %w", err)
	}
	m.tc = tc
	m.ctx, m.cancel = context.WithCancel(context.Background())
	return m, nil
}

// Allocate makes an allocation on every server that has no live one
// (concurrently) and returns the live relayed transport addresses. The
// error joins the failures of the servers that could not allocate
// (*ServerError, *TimeoutError); addresses may come with an error. The
// responses arrive through ReadBatch, which must be running.
func (m *Mux) Allocate(ctx context.Context) ([]netip.AddrPort, error) {
	if m.closed.Load() {
		return nil, net.ErrClosed
	}
	errs := make([]error, len(m.srvs))
	var wg sync.WaitGroup
	for i, s := range m.srvs {
		if s.alloc.Load() != nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = m.ensure(ctx, s)
		}()
	}
	wg.Wait()
	return m.Relayed(), errors.Join(errs...)
}

// ensure allocates on s unless it has a live allocation; concurrent calls
// share one attempt.
func (m *Mux) ensure(ctx context.Context, s *server) error {
	s.mu.Lock()
	if s.alloc.Load() != nil {
		s.mu.Unlock()
		return nil
	}
	if ch := s.inflight; ch != nil {
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return &TimeoutError{Server: s.cfg.Addr, Method: "Allocate", Err: ctx.Err()}
		}
		s.mu.Lock()
		err := s.lastErr
		s.mu.Unlock()
		return err
	}
	ch := make(chan struct{})
	s.inflight = ch
	s.mu.Unlock()

	a, err := m.allocate(ctx, s)
	if err == nil {
		m.mu.Lock() // against Close: no worker starts after its wg.Wait
		if m.closed.Load() {
			err = net.ErrClosed
		} else {
			s.alloc.Store(a)
			m.ctr.allocations.Add(1)
			m.wg.Add(1)
			go a.run()
		}
		m.mu.Unlock()
		if err != nil {
			a.release()
		}
	} else if !m.closed.Load() {
		m.ctr.reqFailures.Add(1)
	}
	s.mu.Lock()
	s.inflight, s.lastErr = nil, err
	s.mu.Unlock()
	close(ch)
	return err
}

// Relayed returns the relayed transport addresses of the live allocations.
func (m *Mux) Relayed() []netip.AddrPort {
	var out []netip.AddrPort
	for _, s := range m.srvs {
		if a := s.alloc.Load(); a != nil {
			out = append(out, a.relayed)
		}
	}
	return out
}

// liveAllocation returns the live allocation whose relayed address is
// relayed, or nil.
func (m *Mux) liveAllocation(relayed netip.AddrPort) *allocation {
	relayed = unmap(relayed)
	for _, s := range m.srvs {
		if a := s.alloc.Load(); a != nil && a.relayed == relayed {
			return a
		}
	}
	return nil
}

// Permit installs permissions for ips (CreatePermission, RFC 8656 §9) on
// every live allocation and keeps them refreshed while the allocation
// lives; each allocation keeps at most MaxPeers IPs, dropping the oldest.
// Peers at these IPs may then send to the relayed addresses. It returns
// ErrNoAllocation without a live allocation, else the joined errors of the
// allocations that refused or did not answer.
func (m *Mux) Permit(ctx context.Context, ips ...netip.Addr) error {
	if m.closed.Load() {
		return net.ErrClosed
	}
	var allocs []*allocation
	for _, s := range m.srvs {
		if a := s.alloc.Load(); a != nil {
			allocs = append(allocs, a)
		}
	}
	if len(allocs) == 0 {
		return ErrNoAllocation
	}
	ips = append([]netip.Addr(nil), ips...)
	for i := range ips {
		ips[i] = ips[i].Unmap()
	}
	errs := make([]error, len(allocs))
	var wg sync.WaitGroup
	for i, a := range allocs {
		a.mu.Lock()
		for _, ip := range ips {
			a.perms.add(ip, m.cfg.MaxPeers)
		}
		a.mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = a.createPermissions(ctx, ips)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Via returns the synthetic address through which this node sends to peer
// over the live allocation whose relayed address is relayed (the same
// address for the same pair). A new pair's IP is added to the
// allocation's permissions and a ChannelBind starts in the background;
// until it succeeds, WriteBatch sends Send indications (which the server
// drops until the permission exists, RFC 8656 §10.2).
func (m *Mux) Via(relayed, peerAddr netip.AddrPort) (netip.AddrPort, error) {
	a := m.liveAllocation(relayed)
	if a == nil {
		return netip.AddrPort{}, ErrNoAllocation
	}
	p, err := m.peerFor(a, unmap(peerAddr))
	if err != nil {
		return netip.AddrPort{}, err
	}
	return p.synth, nil
}

// IsRelayed reports whether a is one of m's synthetic addresses (live or
// not).
func (m *Mux) IsRelayed(a netip.AddrPort) bool { return m.pfx.Contains(a) }

// Route returns the relayed address and the peer of the live synthetic
// address a.
func (m *Mux) Route(a netip.AddrPort) (relayed, peerAddr netip.AddrPort, ok bool) {
	p := m.lookup(a)
	if p == nil || p.dead.Load() {
		return netip.AddrPort{}, netip.AddrPort{}, false
	}
	return p.alloc.relayed, p.addr, true
}

// Stats returns the counters.
func (m *Mux) Stats() Stats { return m.ctr.snapshot() }

// LocalAddr returns the UDP socket's address.
func (m *Mux) LocalAddr() netip.AddrPort { return m.udp.LocalAddr() }

// Caps returns the UDP socket's capabilities. Relayed datagrams grow by 4
// bytes (the ChannelData header) on the way to the server.
func (m *Mux) Caps() conn.Caps { return m.udp.Caps() }

// SetReadDeadline sets the UDP socket's read deadline: ReadBatch then
// returns os.ErrDeadlineExceeded as the socket reports it.
func (m *Mux) SetReadDeadline(t time.Time) error { return m.dl.SetReadDeadline(t) }

// Close releases the allocations (a Refresh with lifetime 0 to each
// server, not waited for), stops the control goroutines and closes the
// UDP socket.
func (m *Mux) Close() error {
	var err error
	m.once.Do(func() {
		m.mu.Lock()
		m.closed.Store(true)
		m.mu.Unlock()
		m.cancel()
		for _, s := range m.srvs {
			if a := s.alloc.Swap(nil); a != nil {
				a.release()
			}
		}
		m.tc.Close()
		m.wg.Wait()
		err = m.udp.Close()
	})
	return err
}

func unmap(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}

// packetConn is the net.PacketConn pion's client sends its requests
// through: WriteTo goes to the UDP socket; the client never reads from it
// (its Listen is not called: ReadBatch feeds it the responses).
type packetConn struct{ m *Mux }

func (c packetConn) ReadFrom([]byte) (int, net.Addr, error) {
	<-c.m.ctx.Done()
	return 0, nil, net.ErrClosed
}

func (c packetConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, fmt.Errorf("turnconn: not a UDP address: %v", addr)
	}
	msgs := []conn.Message{{Buf: b, N: len(b), Addr: unmap(ua.AddrPort())}}
	if _, err := c.m.udp.WriteBatch(msgs); err != nil {
		return 0, sendError{err}
	}
	return len(b), nil
}

// sendError is a request the UDP socket failed to send (reported as
// such, not as a timeout, when it is the first transmission).
type sendError struct{ err error }

func (e sendError) Error() string { return "turnconn: sending a TURN request: " + e.err.Error() }
func (e sendError) Unwrap() error { return e.err }

func (c packetConn) Close() error                     { return nil }
func (c packetConn) LocalAddr() net.Addr              { return net.UDPAddrFromAddrPort(c.m.udp.LocalAddr()) }
func (c packetConn) SetDeadline(time.Time) error      { return nil }
func (c packetConn) SetReadDeadline(time.Time) error  { return nil }
func (c packetConn) SetWriteDeadline(time.Time) error { return nil }
