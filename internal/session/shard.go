package session

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/engine"
	"github.com/sttgo/stt/handshake"
	"github.com/sttgo/stt/suite"
)

// shard is the session layer of one engine shard: its table of sessions,
// its pending initiators, its handshake Responder, its timers and its
// output. Only the shard goroutine touches it.
//
// Each shard has its own handshake.Responder (not one node-wide): the
// Responder's NewSessionID callback gets no context, and each shard must
// pick ids that route to itself; a per-shard Responder also never contends
// on a lock. Its cookie secret is per shard, which is fine because
// handshake frames from one address always route to the same shard.
type shard struct {
	n           *Node
	id          int
	maxSessions int
	hcfg        handshake.Config
	resp        *handshake.Responder
	sessions    map[codec.SessionID]*sessionState
	pending     map[netip.AddrPort]*sessionState // sessions in Handshaking, by peer
	adopt       map[netip.AddrPort]*sessionState // dials waiting for our responder's session (simultaneous open)
	confirming  map[netip.AddrPort]*sessionState // dialed sessions established, waiting for the FINAL (or any frame) that confirms them
	halfOpen    map[netip.AddrPort]time.Time     // peers our responder sent a RESPONSE to, not yet established
	timers      timerHeap
	wake        *time.Timer
	wakeAt      int64
	out         *engine.Shard // set by Node.Attach
	cmdBuf      []command
	hsSeq       uint64
	lastExpire  time.Time
	shutdownAck chan struct{}
	shutdown    bool

	closedTotals map[string]uint64 // per-session counters of the closed sessions (totals.go)

	openBuf []byte
	ctlBuf  []byte

	// Stateless resets sent (reset.go): a token bucket and a buffer.
	resetAt     time.Time
	resetTokens float64
	resetBuf    [codec.MaxStatelessResetLen]byte

	flushQ, flushNext []*sessionState // sessions whose stream layer is polled this iteration
	reqSwap           []*Session      // takeFlushRequests' swap buffer
	streamBuf         []byte          // the stream layer's plaintext frame payloads
	frame             codec.Frame
	hdr               codec.Header // sealFrame's header (kept here so it does not escape)
}

func newShard(n *Node, id, shards int) (*shard, error) {
	sh := &shard{
		n:           n,
		id:          id,
		maxSessions: max(1, n.cfg.MaxSessions/shards),
		sessions:    make(map[codec.SessionID]*sessionState),
		pending:     make(map[netip.AddrPort]*sessionState),
		adopt:       make(map[netip.AddrPort]*sessionState),
		confirming:  make(map[netip.AddrPort]*sessionState),
		halfOpen:    make(map[netip.AddrPort]time.Time),
		cmdBuf:      make([]command, 64),
		openBuf:     make([]byte, 64<<10+suite.OpenSlack+64),
		ctlBuf:      make([]byte, 0, 512),
		streamBuf:   make([]byte, n.cfg.MaxMTU),
		wakeAt:      never.UnixNano(),
	}
	sh.hcfg = handshake.Config{
		Seed:            n.cfg.Seed,
		Static:          n.cfg.NodeKey,
		AllowPeer:       n.cfg.AllowPeer,
		Tickets:         n.tickets,
		TicketKeys:      n.tkeys,
		TicketLifetime:  n.cfg.TicketLifetime,
		CookieThreshold: n.cfg.CookieThreshold,
		Suites:          n.cfg.Suites,
		Timeout:         n.cfg.HandshakeTimeout,
		MaxHalfOpen:     max(1, n.cfg.MaxHalfOpen/shards),
		NewSessionID:    sh.newSessionID,
		IsOwnEphemeral:  n.eph.has,
		Stats:           &n.hsStats,
	}
	if n.cfg.MaxHalfOpen == 0 {
		sh.hcfg.MaxHalfOpen = max(16, handshake.DefaultMaxHalfOpen/shards)
	}
	// Limits per source prefix are per shard; the work budget is node-wide
	// (a prefix's addresses spread over the shards).
	sh.hcfg.MaxHalfOpenPerPrefix = n.cfg.MaxHalfOpenPerPrefix
	sh.hcfg.IPv4PrefixLen = n.cfg.IPv4PrefixLen
	sh.hcfg.Budget = n.hsBudget
	r, err := handshake.NewResponder(&sh.hcfg)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	sh.resp = r
	return sh, nil
}

// newSessionID picks a random non-zero id that routes to this shard and is
// not in use. With S shards it takes S tries on average.
func (sh *shard) newSessionID() (codec.SessionID, error) {
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

// newSession returns a session in Handshaking with peer: its handle and the
// shard-owned state that refer to each other.
func (sh *shard) newSession(peer netip.AddrPort) *sessionState {
	s := &Session{node: sh.n, shard: sh.id, done: make(chan struct{})}
	s.peer.Store(&peer)
	ss := &sessionState{Session: s}
	ss.tcell = &timerCell{ss: ss}
	s.st = ss
	return ss
}

// full reports whether the session table has no room for one more session.
func (sh *shard) full() bool { return len(sh.sessions)+len(sh.pending) >= sh.maxSessions }

// timeout is the handshake timeout in effect.
func (sh *shard) timeout() time.Duration {
	if sh.hcfg.Timeout > 0 {
		return sh.hcfg.Timeout
	}
	return handshake.DefaultTimeout
}
