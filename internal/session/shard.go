package session

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/handshake"
	"github.com/sttgo/stt/suite"
)

// Output sends frames to peers; *engine.Shard implements it. Send encodes
// f (not retained) into the output; Reserve returns n bytes of output for one
// frame with header h, which the caller fills with exactly one complete
// frame before returning (see engine.Shard.Reserve).
type Output interface {
	Send(to netip.AddrPort, f *codec.Frame) error
	Reserve(to netip.AddrPort, h *codec.Header, n int) ([]byte, error)
}

// LimitReserver is an Output that can bound, per frame, the datagram the
// frame is coalesced into (engine.Shard.ReserveLimit): Reserve for a frame
// of n bytes that may share a datagram only up to limit bytes (n <= limit,
// and limit may exceed the output's base MTU). Path MTU discovery needs it:
// a session whose path carries larger datagrams must not make other
// sessions' datagrams larger.
type LimitReserver interface {
	ReserveLimit(to netip.AddrPort, h *codec.Header, n, limit int) ([]byte, error)
}

var errDialCanceled = errors.New("stt: dial canceled")

// shardState is the per-shard logic: the session table, pending initiators,
// the shard's Responder and timers. Only its shard goroutine touches it.
//
// Each shard has its own handshake.Responder (not one node-wide): the
// Responder's NewSessionID callback gets no context, and each shard must
// pick ids that route to itself; a per-shard Responder also never contends
// on a lock. Its cookie secret is per shard, which is fine because
// handshake frames from one address always route to the same shard.
type shardState struct {
	n           *Node
	id          int
	maxSessions int
	hcfg        handshake.Config
	resp        *handshake.Responder
	sessions    map[codec.SessionID]*Session
	pending     map[netip.AddrPort]*Session  // sessions in Handshaking, by peer
	adopt       map[netip.AddrPort]*Session  // dials waiting for our responder's session (simultaneous open)
	halfOpen    map[netip.AddrPort]time.Time // peers our responder sent a RESPONSE to, not yet established
	timers      timerHeap
	wake        *time.Timer
	wakeAt      int64
	out         Output
	lr          LimitReserver // out, when it can bound datagrams per frame (nil otherwise)
	cmdBuf      []command
	hsSeq       uint64
	lastExpire  time.Time
	shutdownAck chan struct{}
	shutdown    bool

	openBuf []byte
	ctlBuf  []byte

	flushQ, flushNext []*Session // sessions whose stream layer is polled this iteration
	reqSwap           []*Session // takeFlushRequests' swap buffer
	streamBuf         []byte     // the stream layer's plaintext frame payloads
	frame             codec.Frame
	hdr               codec.Header // sealSend's header (kept here so it does not escape)
}

func newShardState(n *Node, id, shards int) (*shardState, error) {
	sh := &shardState{
		n:           n,
		id:          id,
		maxSessions: max(1, n.cfg.MaxSessions/shards),
		sessions:    make(map[codec.SessionID]*Session),
		pending:     make(map[netip.AddrPort]*Session),
		adopt:       make(map[netip.AddrPort]*Session),
		halfOpen:    make(map[netip.AddrPort]time.Time),
		cmdBuf:      make([]command, 64),
		openBuf:     make([]byte, 64<<10+suite.OpenSlack+64),
		ctlBuf:      make([]byte, 0, 512),
		streamBuf:   make([]byte, n.cfg.MaxMTU),
		wakeAt:      never.UnixNano(),
	}
	sh.hcfg = handshake.Config{
		Seed:           n.cfg.Seed,
		NodeID:         n.cfg.NodeID,
		Suites:         n.cfg.Suites,
		Timeout:        n.cfg.HandshakeTimeout,
		MaxHalfOpen:    max(1, n.cfg.MaxHalfOpen/shards),
		NewSessionID:   sh.newSessionID,
		IsOwnEphemeral: n.ownEphemeral,
		Stats:          &n.hsStats,
	}
	if n.cfg.MaxHalfOpen == 0 {
		sh.hcfg.MaxHalfOpen = max(16, handshake.DefaultMaxHalfOpen/shards)
	}
	r, err := handshake.NewResponder(&sh.hcfg)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	sh.resp = r
	return sh, nil
}

// newSessionID picks a random non-zero id that routes to this shard and is
// not in use. With S shards it takes S tries on average.
func (sh *shardState) newSessionID() (codec.SessionID, error) {
	var id codec.SessionID
	for range 1 << 16 {
		if _, err := rand.Read(id[:]); err != nil {
			return id, err
		}
		if id == (codec.SessionID{}) || sh.n.eng.ShardOfSession(id) != sh.id {
			continue
		}
		if _, used := sh.sessions[id]; !used {
			return id, nil
		}
	}
	return id, errors.New("stt: no free session id for this shard")
}

// ---- commands ----

func (sh *shardState) command(c *command, now time.Time) {
	switch c.op {
	case opDial:
		sh.dial(c.d, now)
	case opSend:
		s := c.s
		if s.State() == Established {
			sh.sealSend(s, c.frameType, c.stream, c.buf, now)
			if c.frameType == codec.TypeData {
				s.stats.DatagramsOut.Add(1)
			} else {
				s.stats.CustomOut.Add(1)
			}
		}
		sh.n.sendBufs.put(c.buf)
	case opRotate:
		if c.s.State() == Established {
			c.s.rotateWanted = true
			sh.tryRotate(c.s, now)
		}
	case opClose:
		if c.s.State() == Established {
			sh.closeLocal(c.s, c.code, c.reason, now, true)
		}
	case opPhases:
		var p [2]uint64
		if c.s.sealer != nil {
			p = [2]uint64{c.s.sealer.Phase(), c.s.opener.Phase()}
		}
		c.phases <- p
	case opCancelDial:
		if w := sh.pending[c.d.peer]; w != nil && w.dial == c.d {
			sh.failDial(w, errDialCanceled)
		} else if w := sh.adopt[c.d.peer]; w != nil && w.dial == c.d {
			sh.failDial(w, errDialCanceled)
		}
	case opShutdown:
		sh.shutdown = true
		for _, s := range sh.sessions {
			if s.State() == Established {
				sh.closeLocal(s, codec.CodeNoError, "node closing", now, false)
			}
		}
		for _, s := range sh.pending {
			sh.failDial(s, ErrClosed)
		}
		for _, s := range sh.adopt {
			sh.failDial(s, ErrClosed)
		}
		sh.shutdownAck = c.ack
	}
}
