package conn

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync/atomic"
	"time"
)

// Socket defaults used by [ListenUDP] when a [Config] field is zero.
const (
	// DefaultBatchSize is the number of Messages handled per system call.
	DefaultBatchSize = 64
	// DefaultSocketBuffer is the SO_RCVBUF and SO_SNDBUF size requested.
	DefaultSocketBuffer = 4 << 20
	// MaxBatchSize bounds Config.BatchSize (and the scratch arrays sized by it).
	MaxBatchSize = 1024
	// MaxGSOSegments is the most datagrams one GSO send carries (the kernel's
	// UDP_MAX_SEGMENTS on older kernels).
	MaxGSOSegments = 64
	// MaxGSOBytes is the most payload bytes one GSO send carries: the largest
	// IPv4 UDP payload (65535 - 20 - 8).
	MaxGSOBytes = 65507
	// MaxGROBytes is the buffer size a receiver should offer per Message when
	// GRO is on, so that a coalesced run is never truncated.
	MaxGROBytes = 65535
)

// Config configures [ListenUDP]. The zero value is usable.
type Config struct {
	// BatchSize is the most Messages per recvmmsg/sendmmsg (default
	// DefaultBatchSize, capped at MaxBatchSize).
	BatchSize int
	// RecvBuffer and SendBuffer are the socket buffer sizes requested in
	// bytes (default DefaultSocketBuffer). If the kernel grants less, a
	// warning naming the sysctl to raise is logged once.
	RecvBuffer, SendBuffer int
	// DisableGSO turns UDP segmentation offload off: Messages with SegSize
	// are then split into single datagrams by WriteBatch.
	DisableGSO bool
	// DisableGRO turns UDP receive offload off: every received Message is
	// then a single datagram.
	DisableGRO bool
	// Logger receives the socket's rare events (buffer caps, GSO turned
	// off). Nil: the socket logs nothing.
	Logger *slog.Logger
}

// Stats are a socket's counters of rare events. They are read atomically.
type Stats struct {
	// Truncated counts datagrams (or GRO runs) that did not fit into the
	// offered Buf; ReadBatch reports them with N == 0 (Linux; the portable
	// fallback cannot detect truncation).
	Truncated uint64
	// GSOFallbacks counts the times a segmented send failed with EIO and was
	// re-sent as single datagrams (at most once per socket, as GSO then stays
	// off).
	GSOFallbacks uint64
	// TooBig counts datagrams (or GSO runs) the kernel refused as larger
	// than the local MTU (EMSGSIZE, with don't-fragment set); they are
	// dropped and the rest of the batch is sent.
	TooBig uint64
}

// ErrAddrFamily is returned by WriteBatch when a destination cannot be
// reached from the socket's address family (an IPv6 peer on an IPv4 socket).
var ErrAddrFamily = errors.New("conn: destination address family does not match the socket")

// ErrInvalidMessage is returned by WriteBatch for a Message whose N or
// SegSize is out of range (N < 0, N > len(Buf), SegSize < 0).
var ErrInvalidMessage = errors.New("conn: invalid message")

var _ Batch = (*UDPConn)(nil)

// ListenUDP opens a UDP socket on address for network "udp", "udp4" or
// "udp6" and returns it as a [Batch]. On Linux it uses recvmmsg/sendmmsg and,
// unless disabled or unsupported, UDP GSO and GRO; elsewhere it reads and
// writes one datagram per system call. The socket buffers are raised to the
// configured sizes (see [Config]).
func ListenUDP(network, address string, cfg Config) (*UDPConn, error) {
	switch network {
	case "udp", "udp4", "udp6":
	default:
		return nil, fmt.Errorf("conn: unsupported network %q", network)
	}
	cfg = cfg.withDefaults()
	laddr, err := net.ResolveUDPAddr(network, address)
	if err != nil {
		return nil, err
	}
	pc, err := net.ListenUDP(network, laddr)
	if err != nil {
		return nil, err
	}
	c := &UDPConn{pc: pc, cfg: cfg, log: cfg.Logger}
	c.laddr = pc.LocalAddr().(*net.UDPAddr).AddrPort()
	if err := c.init(); err != nil {
		pc.Close()
		return nil, err
	}
	return c, nil
}

func (cfg Config) withDefaults() Config {
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	cfg.BatchSize = min(cfg.BatchSize, MaxBatchSize)
	if cfg.RecvBuffer <= 0 {
		cfg.RecvBuffer = DefaultSocketBuffer
	}
	if cfg.SendBuffer <= 0 {
		cfg.SendBuffer = DefaultSocketBuffer
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg
}

// LocalAddr returns the bound address (with the port chosen by the kernel
// when the caller asked for port 0).
func (c *UDPConn) LocalAddr() netip.AddrPort { return c.laddr }

// Close closes the socket. A ReadBatch blocked in another goroutine returns
// an error satisfying errors.Is(err, net.ErrClosed).
func (c *UDPConn) Close() error { return c.pc.Close() }

// SetReadDeadline sets the deadline of ReadBatch, as net.Conn's does: a
// ReadBatch blocked (or called) after t returns an error satisfying
// errors.Is(err, os.ErrDeadlineExceeded); the zero time clears it. A
// multiplexer of several transports interrupts a blocked ReadBatch with a
// deadline in the past (see package engine/conn/wsconn).
func (c *UDPConn) SetReadDeadline(t time.Time) error { return c.pc.SetReadDeadline(t) }

// checkMessage validates a Message for sending.
func checkMessage(m *Message) bool {
	return m.N >= 0 && m.N <= len(m.Buf) && m.SegSize >= 0
}

// maxGSOChunk returns how many bytes of a segmented Message go into one GSO
// send: a whole number of segments, at most MaxGSOSegments and MaxGSOBytes.
func maxGSOChunk(segSize int) int {
	k := min(MaxGSOSegments, MaxGSOBytes/segSize)
	if k < 1 {
		k = 1
	}
	return k * segSize
}

// counters holds a socket's rare-event counters.
type counters struct {
	truncated    atomic.Uint64
	gsoFallbacks atomic.Uint64
	tooBig       atomic.Uint64
}

// Stats returns the socket's counters of rare events.
func (c *UDPConn) Stats() Stats {
	return Stats{Truncated: c.ctr.truncated.Load(), GSOFallbacks: c.ctr.gsoFallbacks.Load(), TooBig: c.ctr.tooBig.Load()}
}
