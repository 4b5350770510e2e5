package streams

import (
	"time"

	"github.com/sttgo/stt/internal/membudget"
	"github.com/sttgo/stt/internal/recovery"
)

// Protocol defaults. Both peers assume them at session start (there are no
// transport parameters in the handshake); every limit is raised afterwards
// by FLOW_CREDIT, SESSION_CREDIT and MAX_STREAMS.
const (
	// InitialStreamWindow is the initial flow-control limit of every
	// stream, in bytes.
	InitialStreamWindow = 256 << 10
	// InitialSessionWindow is the initial session-wide limit.
	InitialSessionWindow = 384 << 10
	// InitialMaxStreams is the number of streams each side may open at
	// first (and keep open at once).
	InitialMaxStreams = 100
)

// Defaults of Config.
const (
	DefaultMaxStreamWindow  = 16 << 20
	DefaultMaxSessionWindow = 24 << 20
	DefaultMaxInFlight      = 8192
	// DefaultMaxRecvGaps is Config.MaxRecvGaps's default: a drop-tail
	// bottleneck that overflows during a slow-start overshoot drops about
	// every other frame for up to a round trip, thousands of gaps on a fast
	// path (1 Gbit/s, 20 ms: the receiver of a 64-gap buffer dropped 378 to
	// 3108 frames per 128 MB transfer that the path had delivered, three
	// quarters of the losses the sender saw). quic-go allows 1000.
	DefaultMaxRecvGaps = 2048
	DefaultPriority    = 128
)

// Config configures a Conn. Zero fields take the defaults.
type Config struct {
	// Initiator is true on the side that dialed: it opens odd stream ids.
	Initiator bool
	// MaxStreamWindow and MaxSessionWindow bound the auto-tuned receive
	// windows, and so the memory a peer can make us buffer: one stream at
	// most MaxStreamWindow, all streams together MaxSessionWindow.
	MaxStreamWindow, MaxSessionWindow uint64
	// MaxInFlight bounds the frames awaiting acknowledgement (a power of
	// two; DefaultMaxInFlight).
	MaxInFlight int
	// MaxRecvGaps bounds the out-of-order ranges each stream's reassembly
	// buffer tracks (DefaultMaxRecvGaps if 0). A buffer starts with
	// streambuf.DefaultMaxRanges (or MaxRecvGaps if lower) and doubles
	// when a frame would open one more gap, charging the node budget 16
	// bytes per range; a frame that would pass the bound (or the budget)
	// is dropped unacknowledged and sent again.
	MaxRecvGaps int
	// MSS is the frame payload of the base datagram size (1200 bytes):
	// the size every path must carry. MaxMSS is the largest payload path
	// MTU discovery probes for (MSS if lower: no probing).
	MSS, MaxMSS int
	// Overhead is what a datagram adds to a frame's payload (frame header,
	// authentication tag): with it, path MTU discovery probes the common
	// Ethernet sizes first (see pmtu.go). 0: binary search only.
	Overhead int
	// Waker is called (from any goroutine, possibly with internal locks
	// held; it must not call back into the Conn) when the application
	// side made something to send.
	Waker func()
	// Congestion names the congestion controller (congestion.NewByName;
	// "" is congestion.DefaultName).
	Congestion string
	// ReliableCarrier says the session runs over a transport that
	// delivers in order and controls congestion itself (WebSocket over
	// TCP): no loss timers, no congestion window, no pacing (see
	// reliable.go).
	ReliableCarrier bool
	// Start is the origin of the Conn's monotonic clock (flow-control
	// auto-tuning); the driver's times must not precede it.
	Start time.Time
	// Budget is the node-wide memory budget the Conn's receive side draws
	// from (see budget.go); nil: unlimited.
	Budget *membudget.Budget
}

func (c *Config) fill() {
	if c.MaxStreamWindow < InitialStreamWindow {
		c.MaxStreamWindow = DefaultMaxStreamWindow
	}
	if c.MaxSessionWindow < InitialSessionWindow {
		c.MaxSessionWindow = DefaultMaxSessionWindow
	}
	if c.MaxRecvGaps <= 0 {
		c.MaxRecvGaps = DefaultMaxRecvGaps
	}
	if c.MaxInFlight <= 0 || c.MaxInFlight&(c.MaxInFlight-1) != 0 {
		c.MaxInFlight = DefaultMaxInFlight
	}
	if c.MSS <= 0 {
		c.MSS = 1100
	}
	if c.Waker == nil {
		c.Waker = func() {}
	}
	if c.Start.IsZero() {
		c.Start = time.Now()
	}
}

// maxAckDelay is the ACK delay both peers assume.
const maxAckDelay = recovery.DefaultMaxAckDelay

// maxCtlItems is the number of per-stream control messages one CONTROL
// frame carries.
const maxCtlItems = 8
