package engine

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"runtime"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/engine/conn"
)

// Implementation constants.
const (
	// DefaultBatchSize is the number of Messages per ReadBatch/WriteBatch.
	DefaultBatchSize = 64
	// DefaultMTU is the default largest UDP payload the engine sends
	// (ARCHITECTURE.md: 1200-byte datagrams until the path is probed).
	DefaultMTU = 1200
	// SmallBufferSize is the buffer size without segmentation offload.
	SmallBufferSize = 2 << 10
	// LargeBufferSize is the buffer size with GRO or GSO: a whole
	// super-datagram fits.
	LargeBufferSize = 64 << 10
	// DefaultRingSize is the default capacity of each shard's rings.
	DefaultRingSize = 1024
	// DefaultRawRingSize is the default capacity of each shard's ring of
	// raw datagrams (Engine.SendRaw).
	DefaultRawRingSize = 64
	// maxGSOBytes bounds the bytes of one GSO Message (the UDP length field
	// limits a super-datagram to 65535 bytes including headers).
	maxGSOBytes = 65000
	// maxUDPPayload is the largest possible UDP payload over IPv4.
	maxUDPPayload = 65507
	// Bounds on Config sizes, against typos that would allocate gigabytes.
	maxRing   = 1 << 20
	maxPool   = 1 << 20
	maxBuffer = 1 << 20
)

// ErrConfig is wrapped by every error [New] returns for an invalid [Config].
var ErrConfig = errors.New("engine: invalid config")

// Config sets the engine's sizes. The zero value is valid: every zero field
// takes its default.
type Config struct {
	// Shards is the number of shard goroutines (default runtime.GOMAXPROCS(0)).
	Shards int
	// BatchSize is the number of Messages per ReadBatch and the number of
	// ring items a shard handles per iteration (default 64, at most 1024).
	BatchSize int
	// PoolBuffers is the number of buffers in the pool (default 4096 small
	// or 1024 large buffers); at least 2*BatchSize.
	PoolBuffers int
	// BufferSize is the size of each buffer (default 64 KiB when the conn
	// reports GRO or GSO, else 2 KiB). With GRO it must be at least 64 KiB
	// so that a super-datagram fits.
	BufferSize int
	// RingSize is the capacity of each shard's inbound ring (default 1024).
	RingSize int
	// SendRingSize is the capacity of each shard's ring of send requests
	// from Engine.Send (default 1024).
	SendRingSize int
	// RawRingSize is the capacity of each shard's ring of raw datagrams
	// from Engine.SendRaw (default 64); the raw pool holds that many
	// buffers per shard.
	RawRingSize int
	// MaxFrameBody is the largest frame body decoded (default BufferSize,
	// at most codec.DefaultMaxBody).
	MaxFrameBody int
	// MTU is the largest UDP payload sent; frames to one peer are coalesced
	// up to it (default 1200).
	MTU int
	// Logger receives lifecycle and error events, never per-packet logs
	// (default: none; the engine is silent unless given a logger).
	Logger *slog.Logger
	// InlineDelivery lets the receive loop run a shard's step (handler
	// call, Pump round, flush) itself when everything in a read batch went
	// to that one shard and the shard's goroutine is not running a step:
	// no wake-up, no goroutine switch, and the data is still in cache.
	// Handler and Pumper calls for one shard stay serialized either way,
	// but they may then run on the receive loop's goroutine, so a handler
	// that blocks stalls reception for every shard, not just its own.
	// Best with few cores (it keeps one busy flow on one goroutine per
	// side); off by default.
	InlineDelivery bool
	// Foreign receives the datagrams on the socket that are not STT
	// frames but STUN messages or TURN ChannelData messages (see
	// [ClassifyForeign]), with the sender's address. It is called on the
	// receive goroutine, one datagram at a time; b aliases a receive
	// buffer that is reused after the call, so Foreign must copy what it
	// keeps and return at once (it stalls reception for every shard
	// while it runs). nil: such datagrams are dropped and counted
	// (Stats.DropForeign). Either way they are counted (Stats.RxSTUN,
	// Stats.RxChannelData); anything else without the "ST" magic counts
	// as DropBadMagic.
	Foreign func(from netip.AddrPort, b []byte)
}

// withDefaults returns c with defaults filled in for a conn with caps, or
// an error wrapping ErrConfig.
func (c Config) withDefaults(caps conn.Caps) (Config, error) {
	bad := func(format string, args ...any) (Config, error) {
		return c, fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...)
	}
	if c.Shards < 0 || c.BatchSize < 0 || c.PoolBuffers < 0 || c.BufferSize < 0 ||
		c.RingSize < 0 || c.SendRingSize < 0 || c.RawRingSize < 0 || c.MaxFrameBody < 0 || c.MTU < 0 {
		return bad("negative size")
	}
	if c.Shards == 0 {
		c.Shards = runtime.GOMAXPROCS(0)
	}
	if c.Shards > 1024 {
		return bad("%d shards (max 1024)", c.Shards)
	}
	if c.BatchSize == 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.BatchSize > 1024 {
		return bad("batch size %d (max 1024)", c.BatchSize)
	}
	if c.BufferSize == 0 {
		c.BufferSize = SmallBufferSize
		if caps.GRO || caps.GSO {
			c.BufferSize = LargeBufferSize
		}
	}
	if caps.GRO && c.BufferSize < LargeBufferSize {
		return bad("buffer size %d too small for GRO (need %d)", c.BufferSize, LargeBufferSize)
	}
	if c.PoolBuffers == 0 {
		c.PoolBuffers = 4096
		if c.BufferSize >= LargeBufferSize {
			c.PoolBuffers = 1024
		}
		c.PoolBuffers = max(c.PoolBuffers, 2*c.BatchSize)
	}
	if c.PoolBuffers < 2*c.BatchSize {
		return bad("pool of %d buffers smaller than 2*BatchSize", c.PoolBuffers)
	}
	if c.RingSize == 0 {
		c.RingSize = DefaultRingSize
	}
	if c.SendRingSize == 0 {
		c.SendRingSize = DefaultRingSize
	}
	if c.RawRingSize == 0 {
		c.RawRingSize = DefaultRawRingSize
	}
	if c.RingSize > maxRing || c.SendRingSize > maxRing || c.RawRingSize > maxRing || c.PoolBuffers > maxPool || c.BufferSize > maxBuffer {
		return bad("sizes above the bounds (rings %d, pool %d buffers, buffers %d bytes)", maxRing, maxPool, maxBuffer)
	}
	if c.MaxFrameBody == 0 {
		c.MaxFrameBody = c.BufferSize
	}
	if c.MaxFrameBody > codec.DefaultMaxBody {
		return bad("max frame body %d above %d", c.MaxFrameBody, codec.DefaultMaxBody)
	}
	if c.MTU == 0 {
		c.MTU = DefaultMTU
	}
	if c.MTU < codec.MinFrameLen || c.MTU > min(c.BufferSize, maxUDPPayload) {
		return bad("MTU %d outside [%d, min(BufferSize, %d)]", c.MTU, codec.MinFrameLen, maxUDPPayload)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}
