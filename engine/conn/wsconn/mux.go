package wsconn

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sttgo/stt/engine/bufpool"
	"github.com/sttgo/stt/engine/conn"
	"github.com/sttgo/stt/internal/wake"
	"github.com/sttgo/stt/ring"
)

// Defaults of Config.
const (
	DefaultMaxConns       = 1024
	DefaultMaxMessage     = 16 << 10
	DefaultRxBuffers      = 256
	DefaultMaxBuffered    = 256 << 10
	DefaultWriteTimeout   = 30 * time.Second
	DefaultUpgradeTimeout = 5 * time.Second
	DefaultIdleTimeout    = 75 * time.Second
	// DefaultPath is the HTTP path the server upgrades.
	DefaultPath = "/stt"
)

// Errors.
var (
	// ErrNoConn is returned by WriteBatch for a synthetic address whose
	// connection is gone (closed, or never existed).
	ErrNoConn = errors.New("wsconn: no WebSocket connection for this address")
	// ErrNoUDP is returned by WriteBatch for a UDP address when the Mux
	// has no UDP socket.
	ErrNoUDP = errors.New("wsconn: no UDP socket")
	// ErrTooManyConns is returned by Dial when MaxConns connections are
	// open; the server answers 503 instead of upgrading.
	ErrTooManyConns = errors.New("wsconn: connection limit reached")
	// ErrWriteTimeout ends a connection whose peer stopped reading: its
	// send buffer stayed full for WriteTimeout.
	ErrWriteTimeout = errors.New("wsconn: peer not reading (send buffer full for WriteTimeout)")
	// ErrIdle ends a connection that received nothing for IdleTimeout.
	ErrIdle = errors.New("wsconn: connection idle")
	// ErrPeerClosed ends a connection whose peer closed it, with a close
	// frame or by closing TCP (wrapped with the cause).
	ErrPeerClosed = errors.New("wsconn: peer closed the connection")
)

// Config configures a Mux. Zero fields take the defaults.
type Config struct {
	// MaxConns bounds the WebSocket connections open at once, accepted
	// (upgrading or upgraded) and dialed together (DefaultMaxConns).
	MaxConns int
	// MaxMessage is the largest binary message accepted (one datagram of
	// STT frames; DefaultMaxMessage). A larger one closes its connection
	// with 1009 as soon as its header arrives.
	MaxMessage int
	// RxBuffers is the number of MaxMessage-size buffers holding received
	// messages until ReadBatch takes them (DefaultRxBuffers). When all are
	// taken, connections stop reading (TCP pushes back on their peers).
	RxBuffers int
	// MaxBuffered bounds the bytes queued for sending on one connection
	// (DefaultMaxBuffered); WriteBatch waits for room, at most
	// WriteTimeout, then closes the connection (ErrWriteTimeout).
	MaxBuffered  int
	WriteTimeout time.Duration
	// UpgradeTimeout bounds the HTTP upgrade (and a client's dial): a
	// connection that has not completed it in time is closed.
	UpgradeTimeout time.Duration
	// IdleTimeout closes an upgraded connection that received nothing
	// for this long (stt keep-alives arrive every 15 s by default).
	IdleTimeout time.Duration
	// OnClose, if set, is called once for every upgraded connection that
	// ends, with its synthetic address and why. It runs on a transport
	// goroutine and must not block.
	OnClose func(addr netip.AddrPort, err error)
}

func (c *Config) fill() {
	if c.MaxConns <= 0 {
		c.MaxConns = DefaultMaxConns
	}
	if c.MaxMessage <= 0 {
		c.MaxMessage = DefaultMaxMessage
	}
	if c.RxBuffers <= 0 {
		c.RxBuffers = DefaultRxBuffers
	}
	if c.MaxBuffered <= 0 {
		c.MaxBuffered = DefaultMaxBuffered
	}
	c.MaxBuffered = max(c.MaxBuffered, c.MaxMessage+maxHeaderLen)
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.UpgradeTimeout <= 0 {
		c.UpgradeTimeout = DefaultUpgradeTimeout
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
}

// Stats are a Mux's counters.
type Stats struct {
	Accepted, Dialed uint64 // connections upgraded
	Rejected         uint64 // connections refused at MaxConns
	UpgradeFailed    uint64 // upgrades refused (bad request, wrong path, timeout)
	ProtocolErrors   uint64 // connections closed for a *ProtocolError
	MessagesIn       uint64
	MessagesOut      uint64
	Truncated        uint64 // messages larger than ReadBatch's buffer, dropped
	SpoofedDropped   uint64 // UDP datagrams from the synthetic prefix, dropped
	Open             int64  // connections open now
}

type counters struct {
	accepted, dialed, rejected, upgradeFailed, protoErrs atomic.Uint64
	msgsIn, msgsOut, truncated, spoofed                  atomic.Uint64
	open                                                 atomic.Int64
}

// deadliner is the UDP socket's read deadline: the Mux interrupts a
// ReadBatch blocked on UDP with it when a WebSocket message arrives.
type deadliner interface {
	SetReadDeadline(t time.Time) error
}

// Mux is a conn.Batch that multiplexes one UDP socket and any number of
// WebSocket connections (accepted by servers started with Listen, or
// opened with Dial). Each connection appears as a synthetic peer address
// (see the package documentation), so the engine and the sessions above
// run unchanged over both. ReadBatch returns UDP datagrams and WebSocket
// messages (one message: one datagram); WriteBatch sends to the UDP
// socket or frames a binary message on the connection, by address.
type Mux struct {
	udp  conn.Batch // nil: WebSocket only
	dl   deadliner
	cfg  Config
	pfx  conn.Synthetic
	seq  atomic.Uint64
	pool *bufpool.Pool            // receive buffers, made by the first Listen or Dial (ensurePool)
	rx   *ring.MPSC[*bufpool.Buf] // received messages; capacity >= pool size, so Push never fails
	sig  wake.Signal              // ReadBatch waiting for rx (without UDP)

	blocked atomic.Bool // ReadBatch is (about to be) blocked on UDP
	kicked  atomic.Bool // its read deadline was set to interrupt it

	mu      sync.RWMutex
	conns   map[netip.AddrPort]*Conn
	servers []interface{ close() }

	starveMu sync.Mutex
	starved  []*Conn // connections waiting for a receive buffer
	nStarved atomic.Int32

	ctr    counters
	closed atomic.Bool
	done   chan struct{}
	once   sync.Once
}

// New returns a Mux over udp (nil: WebSocket connections only). The Mux
// takes ownership of udp. To interrupt a ReadBatch blocked on UDP when a
// WebSocket message arrives, udp must have a read deadline
// (SetReadDeadline, as *conn.UDPConn has).
func New(udp conn.Batch, cfg Config) (*Mux, error) {
	cfg.fill()
	m := &Mux{
		udp:   udp,
		cfg:   cfg,
		pfx:   conn.NewSynthetic(addrSubnet, addrPort),
		rx:    ring.NewMPSC[*bufpool.Buf](cfg.RxBuffers),
		conns: make(map[netip.AddrPort]*Conn),
		done:  make(chan struct{}),
	}
	m.sig.Init()
	if udp != nil {
		dl, ok := udp.(deadliner)
		if !ok {
			return nil, fmt.Errorf("wsconn: the UDP conn (%T) has no SetReadDeadline", udp)
		}
		m.dl = dl
	}
	return m, nil
}

// IsConn reports whether addr is one of this Mux's synthetic addresses
// (a WebSocket connection, open or not).
func (m *Mux) IsConn(addr netip.AddrPort) bool { return m.pfx.Contains(addr) }

// Config returns the configuration in effect.
func (m *Mux) Config() Config { return m.cfg }

// Stats returns the counters.
func (m *Mux) Stats() Stats {
	c := &m.ctr
	return Stats{
		Accepted: c.accepted.Load(), Dialed: c.dialed.Load(), Rejected: c.rejected.Load(),
		UpgradeFailed: c.upgradeFailed.Load(), ProtocolErrors: c.protoErrs.Load(),
		MessagesIn: c.msgsIn.Load(), MessagesOut: c.msgsOut.Load(), Truncated: c.truncated.Load(),
		SpoofedDropped: c.spoofed.Load(), Open: c.open.Load(),
	}
}

// admit counts a new connection, or refuses it at MaxConns.
func (m *Mux) admit() bool {
	if m.closed.Load() || m.ctr.open.Add(1) > int64(m.cfg.MaxConns) {
		m.ctr.open.Add(-1)
		m.ctr.rejected.Add(1)
		return false
	}
	return true
}

func (m *Mux) unadmit() { m.ctr.open.Add(-1) }

// register gives an upgraded connection its address and makes it
// reachable by WriteBatch.
func (m *Mux) register(c *Conn) {
	c.addr = m.pfx.Addr(m.seq.Add(1))
	m.mu.Lock()
	m.conns[c.addr] = c
	m.mu.Unlock()
}

// unregister forgets c (its admission is returned by the caller).
func (m *Mux) unregister(c *Conn, err error) {
	m.mu.Lock()
	delete(m.conns, c.addr)
	m.mu.Unlock()
	m.unadmit()
	if m.cfg.OnClose != nil {
		m.cfg.OnClose(c.addr, err)
	}
}

func (m *Mux) lookup(addr netip.AddrPort) *Conn {
	m.mu.RLock()
	c := m.conns[addr]
	m.mu.RUnlock()
	return c
}

// CloseConn closes the connection of addr with a normal close frame
// (1000); it does nothing if there is none.
func (m *Mux) CloseConn(addr netip.AddrPort) {
	if c := m.lookup(addr); c != nil {
		c.closeNormal()
	}
}

// push queues a received message for ReadBatch.
func (m *Mux) push(b *bufpool.Buf) {
	m.ctr.msgsIn.Add(1)
	m.rx.Push(b) // never full: the ring holds every buffer of the pool
	if m.udp == nil {
		m.sig.Notify()
		return
	}
	// Interrupt a ReadBatch blocked on UDP (see ReadBatch).
	if m.blocked.Load() && m.kicked.CompareAndSwap(false, true) {
		_ = m.dl.SetReadDeadline(aLongTimeAgo)
	}
}

var aLongTimeAgo = time.Unix(1, 0)

// starve records that c stopped reading for want of a receive buffer.
func (m *Mux) starve(c *Conn) {
	m.starveMu.Lock()
	if !c.starving {
		c.starving = true
		m.starved = append(m.starved, c)
		m.nStarved.Add(1)
	}
	m.starveMu.Unlock()
	if m.pool.Available() > 0 { // freed meanwhile
		m.unstarve()
	}
}

// unstarve lets the starved connections read again.
func (m *Mux) unstarve() {
	m.starveMu.Lock()
	for i, c := range m.starved {
		c.starving = false
		c.be.resume() // never blocks
		m.starved[i] = nil
	}
	m.starved = m.starved[:0]
	m.nStarved.Store(0)
	m.starveMu.Unlock()
}

// ReadBatch returns UDP datagrams or WebSocket messages, blocking until at
// least one is there. A message longer than the Buf offered is dropped
// (Stats.Truncated). After Close it returns net.ErrClosed.
func (m *Mux) ReadBatch(msgs []conn.Message) (int, error) {
	for {
		if m.closed.Load() {
			return 0, net.ErrClosed
		}
		if n := m.popRx(msgs); n > 0 {
			return n, nil
		}
		if m.udp == nil {
			m.sig.Prepare()
			if m.rx.Len() > 0 {
				m.sig.Cancel()
				continue
			}
			select {
			case <-m.sig.C():
			case <-m.done:
			}
			m.sig.Cancel()
			continue
		}
		// Announce the UDP wait, then re-check: a push either sees the
		// announcement (and sets the read deadline in the past, which
		// makes the read return at once) or happened before the check.
		m.blocked.Store(true)
		if m.rx.Len() > 0 {
			m.blocked.Store(false)
			continue
		}
		n, err := m.udp.ReadBatch(msgs)
		m.blocked.Store(false)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				// Reset the deadline before re-arming: a push after the
				// Store below sets it again.
				_ = m.dl.SetReadDeadline(time.Time{})
				m.kicked.Store(false)
				continue
			}
			return 0, err
		}
		if n = m.dropSpoofed(msgs[:n]); n > 0 {
			return n, nil
		}
	}
}

// dropSpoofed removes the datagrams whose source lies in the synthetic
// prefix and returns how many are left (compacted to the front).
func (m *Mux) dropSpoofed(msgs []conn.Message) int {
	k := 0
	for i := range msgs {
		if m.pfx.Contains(msgs[i].Addr) {
			m.ctr.spoofed.Add(1)
			continue
		}
		// Move the datagram, not the Buf: the caller knows its buffers
		// by slot (conn.Batch.ReadBatch).
		if k != i && !conn.MoveMessage(&msgs[k], &msgs[i]) {
			m.ctr.truncated.Add(1) // the batch's buffers differ in size: not with the engine's pool
			continue
		}
		k++
	}
	return k
}

// popRx moves queued messages into msgs.
func (m *Mux) popRx(msgs []conn.Message) int {
	n := 0
	for n < len(msgs) {
		b, ok := m.rx.Pop()
		if !ok {
			break
		}
		msg := &msgs[n]
		if b.Len() > len(msg.Buf) {
			m.ctr.truncated.Add(1)
			b.Release()
			continue
		}
		msg.N = copy(msg.Buf, b.Bytes())
		msg.Addr, msg.SegSize = b.Addr, 0
		b.Release()
		n++
	}
	if n > 0 && m.nStarved.Load() > 0 {
		m.unstarve()
	}
	return n
}

// WriteBatch sends each Message to its address: UDP addresses through the
// UDP socket (runs of them in one call), synthetic ones as binary
// messages on their connections (a Message with SegSize as one message
// per segment). It stops at the first failure and returns its index with
// the error (ErrNoConn for a connection that is gone).
func (m *Mux) WriteBatch(msgs []conn.Message) (int, error) {
	i := 0
	for i < len(msgs) {
		if !m.pfx.Contains(msgs[i].Addr) {
			j := i + 1
			for j < len(msgs) && !m.pfx.Contains(msgs[j].Addr) {
				j++
			}
			if m.udp == nil {
				return i, ErrNoUDP
			}
			n, err := m.udp.WriteBatch(msgs[i:j])
			if err != nil {
				return i + n, err
			}
			i = j
			continue
		}
		c := m.lookup(msgs[i].Addr)
		if c == nil {
			return i, ErrNoConn
		}
		if err := c.sendMessage(&msgs[i]); err != nil {
			return i, err
		}
		i++
	}
	return len(msgs), nil
}

// LocalAddr returns the UDP socket's address (the zero AddrPort without one).
func (m *Mux) LocalAddr() netip.AddrPort {
	if m.udp == nil {
		return netip.AddrPort{}
	}
	return m.udp.LocalAddr()
}

// Caps returns the UDP socket's capabilities (WebSocket messages have no
// segmentation offload: WriteBatch splits segmented Messages itself).
func (m *Mux) Caps() conn.Caps {
	if m.udp == nil {
		return conn.Caps{BatchSize: 64}
	}
	return m.udp.Caps()
}

// Close stops the servers, closes every connection and the UDP socket, and
// unblocks ReadBatch.
func (m *Mux) Close() error {
	var err error
	m.once.Do(func() {
		m.closed.Store(true)
		close(m.done)
		m.mu.Lock()
		servers := m.servers
		m.servers = nil
		conns := make([]*Conn, 0, len(m.conns))
		for _, c := range m.conns {
			conns = append(conns, c)
		}
		m.mu.Unlock()
		for _, c := range conns {
			c.closeNormal()
		}
		for _, s := range servers {
			s.close()
		}
		if m.udp != nil {
			err = m.udp.Close()
		}
	})
	return err
}

// ensurePool makes the receive buffers (RxBuffers*MaxMessage bytes) when
// the first connection may come, so that a node that never uses
// WebSocket does not pay for them.
func (m *Mux) ensurePool() {
	m.mu.Lock()
	if m.pool == nil {
		m.pool = bufpool.New(m.cfg.RxBuffers, m.cfg.MaxMessage)
	}
	m.mu.Unlock()
}

func (m *Mux) addServer(s interface{ close() }) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed.Load() {
		return false
	}
	m.servers = append(m.servers, s)
	return true
}
