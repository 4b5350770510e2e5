package stt

import (
	"log/slog"
	"time"

	"github.com/sttgo/stt/engine/conn"
)

// DefaultMaxMTU is the default ceiling of path MTU discovery: a 9000-byte
// jumbo frame less the IPv6 and UDP headers. Paths that carry less settle
// lower after a few lost probes; none of them is a congestion signal.
const DefaultMaxMTU = 8952

// Config configures a Node. Only Seed is required; zero fields take defaults.
type Config struct {
	// ListenAddr is the UDP address to bind (default "127.0.0.1:0").
	ListenAddr string
	// Seed is the pre-shared seed, at least 16 bytes; nodes with different
	// seeds cannot establish sessions. It is not retained after Listen
	// copies it.
	Seed []byte
	// Suites lists the cipher suites offered and accepted, parsed by
	// suite.ParseName: "aead" (default), "stc", or explicit names.
	Suites string
	// Shards, BatchSize and MTU size the engine (see engine.Config). MTU
	// (default 1200) is the datagram size every session starts with.
	Shards, BatchSize, MTU int
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
	// retries once after a first timeout.
	HandshakeTimeout time.Duration
	// KeepAlive (default 15 s): a PING is sent on a session that sent
	// nothing for this long. IdleTimeout (default 60 s): a session that
	// received nothing authenticated for this long closes with
	// IDLE_TIMEOUT.
	KeepAlive, IdleTimeout time.Duration
	// RekeyAfterFrames (default 2^20), RekeyAfterBytes (default 1 GiB) and
	// RekeyAfterTime (default 10 min) trigger automatic key rotation.
	RekeyAfterFrames, RekeyAfterBytes uint64
	RekeyAfterTime                    time.Duration
	// MaxSessions (default 65536) and MaxHalfOpen (default 1024) bound the
	// session table and the responders' half-open handshakes.
	MaxSessions, MaxHalfOpen int
	// Logger receives lifecycle events (default slog.Default()).
	Logger *slog.Logger
	// Conn, if set, is used instead of a UDP socket (tests use conntest);
	// the Node takes ownership and closes it.
	Conn conn.Batch
}
