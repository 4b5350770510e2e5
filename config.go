package stt

import (
	"log/slog"
	"time"

	"github.com/sttgo/stt/engine/conn"
	"github.com/sttgo/stt/handshake"
	"github.com/sttgo/stt/internal/session"
)

// DefaultMaxMTU is the default ceiling of path MTU discovery: a 9000-byte
// jumbo frame less the IPv6 and UDP headers. Paths that carry less settle
// lower after a few lost probes; none of them is a congestion signal.
const DefaultMaxMTU = 8952

// DefaultMemoryBudget is the default Config.MemoryBudget: 1 GiB. A session
// that streams at full speed holds at most its 24 MiB session window, so
// the default lets about forty such transfers run at full window at once,
// and caps what any number of peers that never see their data read can
// pin at a size a server host expects one service to use. Lower it on
// small hosts; the node still works with a budget of a few MiB, with
// windows that no longer grow.
const DefaultMemoryBudget = 1 << 30

// MinSeedLen is the shortest seed Listen accepts, in bytes.
const MinSeedLen = 16

// The handshake enforces the same minimum.
var _ [MinSeedLen - handshake.MinSeedLen]struct{}
var _ [handshake.MinSeedLen - MinSeedLen]struct{}

// Config configures a Node. Only Seed is required; zero fields take
// defaults.
type Config struct {
	// ListenAddr is the UDP address to bind, "host:port" (default
	// "127.0.0.1:0": loopback, a port chosen by the system). Use
	// "0.0.0.0:port" or "[::]:port" to be reachable from other hosts;
	// an IPv4 address gives an IPv4-only node.
	ListenAddr string
	// Seed is the pre-shared seed, at least MinSeedLen bytes; nodes with different
	// seeds cannot establish sessions. Listen copies it.
	Seed []byte
	// NodeSeed is this node's own secret seed (the reference's node_seed),
	// at least MinSeedLen bytes: it derives the node's static X25519 key
	// and so its NodeID, the same on every run (package identity). Keep
	// it secret and apart from Seed: whoever holds it is this node. Nil: a
	// random key per Listen (an identity that lasts as long as the Node).
	// Listen copies it.
	NodeSeed []byte
	// AllowPeers, if not empty, lists the only node ids this node holds
	// sessions with: a Dial to any other node fails with
	// ErrPeerNotAllowed, and a session any other node establishes is
	// closed at once with CodeNotAllowed (the peer's Session fails with a
	// *CloseError matching ErrPeerNotAllowed), counted in
	// handshake_peers_refused. Ids are proven in the handshake, not
	// claimed. Empty: every node holding Seed.
	AllowPeers []NodeID
	// Suites lists the cipher suites offered and accepted, by name:
	// "aead" (default: AES-256-GCM where the CPU has AES instructions,
	// ChaCha20-Poly1305 otherwise), "stc" (read README's section on STC
	// first), or explicit names, comma-separated ("aes-256-gcm",
	// "chacha20-poly1305", "stc-aes-256-gcm", "stc-chacha20-poly1305").
	Suites string
	// Shards is the number of engine shards, each a goroutine owning a
	// share of the sessions (default GOMAXPROCS). BatchSize is the number
	// of datagrams per system call (default 64).
	Shards, BatchSize int
	// MTU is the datagram size every session starts with (default 1200,
	// which every IPv6 path carries).
	MTU int
	// MaxMTU is the largest datagram path MTU discovery probes for while a
	// session sends stream data (default DefaultMaxMTU; at most 65527; -1
	// or any value <= MTU: no probing). Probing runs only on sockets that
	// set the don't-fragment bit (Linux); elsewhere sessions keep MTU.
	MaxMTU int
	// Congestion names the stream layer's congestion controller: "cubic",
	// "bbr" or "newreno" ("" : the default, see README "Congestion
	// control").
	Congestion string
	// HandshakeTimeout bounds one handshake attempt (default 10 s); Dial
	// retries once after a first timeout, so a Dial to a silent address
	// fails after twice this.
	HandshakeTimeout time.Duration
	// KeepAlive (default 15 s): a PING is sent on a session that sent
	// nothing for this long. IdleTimeout (default 60 s): a session that
	// received nothing authenticated for this long closes with
	// CodeIdleTimeout.
	KeepAlive, IdleTimeout time.Duration
	// RekeyAfterFrames (default 2^20), RekeyAfterBytes (default 1 GiB) and
	// RekeyAfterTime (default 10 min) trigger automatic key rotation.
	RekeyAfterFrames, RekeyAfterBytes uint64
	RekeyAfterTime                    time.Duration
	// MaxSessions (default 65536) bounds the sessions of the node and
	// MaxHalfOpen (default 1024) the handshakes it answers at once.
	MaxSessions, MaxHalfOpen int
	// MemoryBudget bounds, in bytes, what peers can make the node buffer
	// on the receive side across all its sessions (default
	// DefaultMemoryBudget; negative: unlimited). It covers the stream
	// receive credit granted beyond each session's initial 384 KiB window,
	// the state of streams peers open, and the datagram queues. When it is
	// used up the node applies backpressure instead of growing: stream
	// flow-control credit stops growing (sessions keep the windows they
	// have) and datagrams are dropped and counted
	// (SessionStats.Drops["drop_budget"]). See README "Limits and memory".
	MemoryBudget int64
	// CookieThreshold is the number of half-open handshakes (per shard)
	// from which the node answers a first contact with a RETRY, the
	// stateless address check, instead of a RESPONSE; it also does while
	// the handshake work budget is under load. Below both, a Dial to this
	// node sends application data one round trip after its HELLO. Zero: a
	// quarter of the half-open table; negative: always check (one more
	// round trip for every first contact). See README "Handshakes".
	CookieThreshold int
	// TicketLifetime is how long the resumption tickets this node issues
	// stay valid (and how often its ticket key rotates; default 12 h). A
	// node that dials a peer again within it resumes: no static-key work,
	// still a fresh ephemeral DH. Negative: no resumption, either way.
	TicketLifetime time.Duration
	// IPv4PrefixLen is the IPv4 prefix by which the node's handshake
	// limits and work budget count sources (default 24: a /24 is one
	// source, as an IPv6 /64 is; 32 counts whole addresses, which suits a
	// deployment whose honest peers share a few /24s; at least 8). See
	// README "Handshakes under flood".
	IPv4PrefixLen int
	// Logger receives lifecycle events (sessions established and closed at
	// Debug level, engine start and stop at Info, persistent socket errors
	// at Warn), never per-packet ones. Nil: the node logs nothing.
	Logger *slog.Logger
	// WebSocket configures the WebSocket transport: a listener for
	// sessions over ws:// or wss://, and how Dial reaches wss:// servers.
	// Dial accepts "ws://" and "wss://" URLs on every node that binds its
	// own UDP socket (Conn nil); see README "WebSocket".
	WebSocket WebSocketConfig
	// STUNServers lists STUN servers ("host:port", RFC 8489) the node
	// asks, on its data socket, for its reflexive address: the address a
	// NAT maps the socket to, which peers behind other NATs need
	// (Node.ReflexiveAddrs). Empty: no STUN; STUN datagrams arriving are
	// dropped and counted (engine "drop_foreign"). At most 16.
	STUNServers []string
	// NATKeepAlive is the interval at which the node re-binds to every
	// STUN server, which keeps the NAT's UDP binding open and notices a
	// changed mapping (default 25 s, below common 30 s UDP binding
	// timeouts; only with STUNServers).
	NATKeepAlive time.Duration
	// TURNServers lists TURN relays (RFC 8656, UDP) the node allocates a
	// relayed address on, at Listen and again whenever an allocation is
	// lost (Node.RelayedAddrs). Introductions offer it as a relayed
	// candidate, tried RelayDelay after the direct ones: the fallback when
	// no direct path exists (both NATs map per destination). Needs the
	// node's own UDP socket (Conn nil). At most 4.
	TURNServers []TURNServer
	// Rendezvous makes the node an introducer: a peer holding a session
	// with it may ask it (Node.DialVia) to introduce it to another peer
	// holding a session with it, by node id; both then receive each
	// other's candidate addresses and dial each other at once, which
	// punches through endpoint-independent NATs (docs/PROTOCOL.md,
	// "Introductions"). Requests are rate-limited per session. Without
	// it, requests are refused (IntroNotRendezvous).
	Rendezvous bool
	// Conn, if set, is the datagram transport used instead of a UDP socket
	// bound to ListenAddr: anything implementing the batch interface of
	// package engine/conn (tests use the in-memory network of
	// engine/conn/conntest). The Node takes ownership and closes it.
	Conn conn.Batch
}

// The session layer has the same default.
var _ [DefaultMemoryBudget - session.DefaultMemoryBudget]struct{}
var _ [session.DefaultMemoryBudget - DefaultMemoryBudget]struct{}

// WebSocketConfig configures a node's WebSocket transport (package
// engine/conn/wsconn): sessions over WebSocket connections beside the UDP
// socket, for networks that block UDP. A session over WebSocket is the
// same session (same handshake, streams, datagrams); its streams neither
// retransmit on timers nor pace under a congestion window, since TCP does
// both (docs/PROTOCOL.md "Reliable carriers").
type WebSocketConfig struct {
	// ListenAddr, if set, is the TCP address ("host:port") of a WebSocket
	// server accepting sessions (Node.WebSocketAddr returns the address
	// bound). Empty: no server; Dial to ws:// and wss:// still works.
	ListenAddr string
	// Path is the HTTP path the server upgrades (default "/stt").
	Path string
	// CertFile and KeyFile (PEM) make the server speak TLS (wss://).
	// Without them it speaks plain ws:// on a gnet event loop; with them
	// it runs on crypto/tls (gnet has no TLS).
	CertFile, KeyFile string
	// PinnedCert, if set, is the DER certificate wss:// dials accept
	// (instead of a chain to the system roots): for self-signed servers.
	PinnedCert []byte
	// MaxConns bounds the WebSocket connections open at once, accepted
	// and dialed (default 1024).
	MaxConns int
}
