package session

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/sttgo/stt/handshake"
	"github.com/sttgo/stt/identity"
)

// Defaults of Config.
const (
	DefaultKeepAlive        = 15 * time.Second
	DefaultIdleTimeout      = 60 * time.Second
	DefaultRekeyAfterFrames = 1 << 20
	DefaultRekeyAfterBytes  = 1 << 30
	DefaultRekeyAfterTime   = 10 * time.Minute
	DefaultKeyGrace         = 3 * time.Second
	DefaultCloseDrain       = 1 * time.Second
	DefaultRecvQueue        = 256
	DefaultMaxSessions      = 65536
	DefaultAcceptQueue      = 128
	DefaultCommandRing      = 1024
	DefaultSendBuffers      = 4096
	// DefaultMemoryBudget bounds what peers can make the node buffer on
	// the receive side, across all sessions (see Config.MemoryBudget).
	DefaultMemoryBudget = 1 << 30
)

// DeadPeerProbeTimeouts is how many probe timeouts in a row, with stream
// data in flight and nothing acknowledged, make a session declare its peer
// unreachable and close (CodePeerUnreachable). The PTO doubles each time
// (RFC 9002), so the bound is 2^6-1 = 63 base PTOs after the last
// acknowledgment, base PTO = smoothed RTT + max(4 RTT variance, 1 ms) +
// the peer's 25 ms maximum ACK delay: about 1.7 s on a LAN, 6-11 s at a
// 50 ms RTT; far below the 60 s idle timeout, and, the probability of six
// probe rounds all lost being (1-(1-p)^2)^6, about 1e-9 at 1% loss and 3e-4
// at 30%. RFC 9000 leaves it to the idle timeout; TCP stacks give up after
// 15 retransmissions (Linux tcp_retries2).
const DeadPeerProbeTimeouts = 6

// deadPeerMinSilence is the least time without any authenticated frame
// before the peer is declared unreachable: a floor, for a scheduling stall
// on a sub-millisecond path, under the bound above.
const deadPeerMinSilence = time.Second

var deadPeerReason = fmt.Sprintf("peer unreachable: nothing acknowledged through %d probe timeouts", DeadPeerProbeTimeouts)

// ErrConfig is wrapped by NewNode for an invalid Config.
var ErrConfig = errors.New("stt: invalid config")

// Config holds the session-layer settings. Zero fields take the defaults
// above.
type Config struct {
	// Seed is the pre-shared seed (at least handshake.MinSeedLen bytes).
	Seed []byte
	// NodeKey is this node's static key (package identity), required: the
	// handshake proves it, and peers know the node by its id.
	NodeKey *identity.Key
	// TicketLifetime and CookieThreshold configure resumption and the
	// 1-RTT first contact (handshake.Config; zero: the defaults).
	TicketLifetime  time.Duration
	CookieThreshold int
	// AllowPeer, if set, reports whether the node holds sessions with the
	// node id id: a Dial to a peer it rejects fails with
	// handshake.ErrPeerNotAllowed, a session a rejected peer establishes is
	// closed at once with codec.CodeNotAllowed. Nil allows every node
	// with the group seed.
	AllowPeer func(id [32]byte) bool
	// Suites lists the offered/accepted cipher suites in preference order.
	Suites []uint8
	// HandshakeTimeout is the total handshake timeout (handshake default).
	HandshakeTimeout time.Duration
	// KeepAlive: a PING is sent when nothing was sent for this long.
	KeepAlive time.Duration
	// IdleTimeout: the session closes (IDLE_TIMEOUT) when nothing
	// authenticated was received for this long.
	IdleTimeout time.Duration
	// RekeyAfterFrames, RekeyAfterBytes and RekeyAfterTime trigger an
	// automatic key rotation of the send direction.
	RekeyAfterFrames, RekeyAfterBytes uint64
	RekeyAfterTime                    time.Duration
	// KeyGrace is how long the previous receive key phase is kept after
	// the peer switched phase.
	KeyGrace time.Duration
	// CloseDrain is how long a locally closed session stays in Closing.
	CloseDrain time.Duration
	// MaxSessions bounds the sessions of the node (split evenly over the
	// shards); MaxHalfOpen bounds the responders' half-open tables (split
	// too).
	MaxSessions, MaxHalfOpen int
	// MaxHalfOpenPerPrefix bounds the half-open handshakes of one source
	// prefix in each shard's responder (default
	// handshake.DefaultMaxHalfOpenPerPrefix; see handshake.Config).
	MaxHalfOpenPerPrefix int
	// IPv4PrefixLen is the IPv4 prefix length the handshake limits and
	// budgets count by (default handshake.DefaultIPv4PrefixLen, 24; 32
	// counts whole addresses).
	IPv4PrefixLen int
	// HandshakeBudget configures the node's handshake work budget, shared
	// by the responders of all shards (zero fields: handshake's defaults;
	// its IPv4PrefixLen is taken from IPv4PrefixLen above).
	HandshakeBudget handshake.BudgetConfig
	// RecvQueue is the per-session receive queue length in datagrams.
	RecvQueue int
	// AcceptQueue bounds the established inbound sessions not yet accepted.
	AcceptQueue int
	// SendBuffers bounds the application datagrams in flight from
	// application goroutines to the shards (ErrBackpressure beyond).
	SendBuffers int
	// MTU is the base datagram size every session starts with: the
	// largest frame sealed before path MTU discovery raised it.
	MTU int
	// MaxMTU is the largest datagram path MTU discovery probes for (at most
	// 65527). Probing needs an Output that can bound coalescing per frame
	// (LimitReserver) and a socket that sets the don't-fragment bit; without
	// either, or with MaxMTU <= MTU, sessions keep the base size.
	MaxMTU int
	// ReliableCarrier, if set, reports whether a peer address is a
	// reliable, congestion-controlled carrier (a WebSocket connection):
	// the streams of a session established with it run without loss
	// timers, congestion window or pacing (streams.Config.ReliableCarrier).
	ReliableCarrier func(peer netip.AddrPort) bool
	// MemoryBudget bounds the receive-side memory peers can make the node
	// hold across all its sessions, in bytes: stream receive credit beyond
	// each session's initial window (the protocol grants 384 KiB before
	// any update), peer-opened streams' state, and datagram queue
	// buffers. When it is used up, credit increases are withheld and
	// datagrams are dropped (DropBudget) instead of growing. Default
	// DefaultMemoryBudget; negative: unlimited (still counted).
	MemoryBudget int64
	// Congestion names the streams' congestion controller
	// (congestion.NewByName).
	Congestion string
	// Rendezvous makes the node introduce the peers that hold sessions
	// with it to each other (INTRO_REQUEST, docs/PROTOCOL.md
	// "Introductions"); without it, requests are refused.
	Rendezvous bool
	// HasRelay, if set, reports whether this node offers relayed (TURN)
	// candidates: of two introduced peers that both do, only the one with
	// the lower node id dials the other's relayed candidates, so that one
	// relayed session results.
	HasRelay func() bool
	// Introduced, if set, is called (on its own goroutine) with an
	// introduced peer's candidates before this node dials them: a node
	// with a TURN allocation permits their addresses there, so that the
	// peer's handshake through the relay gets in.
	Introduced func(cands []netip.AddrPort)
	// ThroughRelay, if set, reports whether a peer address is reached
	// through this node's TURN allocation (Session.Relayed).
	ThroughRelay func(peer netip.AddrPort) bool
	// PeerGone, if set, is called with a session's remote address when
	// the session ends (on the goroutine that ends it; it must not
	// block): a TURN Mux forgets the relayed peer's synthetic address.
	PeerGone func(peer netip.AddrPort)
	// Now is the clock (default time.Now); tests inject a fake one.
	Now func() time.Time
	// Logger receives lifecycle events (never per-packet ones); nil
	// discards them: the library is silent unless given a logger.
	Logger *slog.Logger
}

func (c *Config) fill() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	defi := func(d *int, v int) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.KeepAlive, DefaultKeepAlive)
	def(&c.IdleTimeout, DefaultIdleTimeout)
	def(&c.RekeyAfterTime, DefaultRekeyAfterTime)
	def(&c.KeyGrace, DefaultKeyGrace)
	def(&c.CloseDrain, DefaultCloseDrain)
	if c.RekeyAfterFrames == 0 {
		c.RekeyAfterFrames = DefaultRekeyAfterFrames
	}
	if c.RekeyAfterBytes == 0 {
		c.RekeyAfterBytes = DefaultRekeyAfterBytes
	}
	defi(&c.MaxSessions, DefaultMaxSessions)
	defi(&c.RecvQueue, DefaultRecvQueue)
	defi(&c.AcceptQueue, DefaultAcceptQueue)
	defi(&c.SendBuffers, DefaultSendBuffers)
	defi(&c.MTU, 1200)
	if c.MemoryBudget == 0 {
		c.MemoryBudget = DefaultMemoryBudget
	}
	c.MaxMTU = min(max(c.MaxMTU, c.MTU), 65527)
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}
