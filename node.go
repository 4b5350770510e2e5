package stt

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"sync"
	"time"

	"github.com/sttgo/stt/engine"
	"github.com/sttgo/stt/engine/conn"
	"github.com/sttgo/stt/handshake"
	"github.com/sttgo/stt/internal/congestion"
	"github.com/sttgo/stt/internal/session"
	"github.com/sttgo/stt/suite"
)

// Node is one stt endpoint: a socket, the packet engine, and the sessions
// it runs as initiator (Dial) and responder (Accept).
type Node struct {
	sn     *session.Node
	eng    *engine.Engine
	addr   netip.AddrPort
	nodeID [32]byte
	once   sync.Once
	err    error
}

// Listen opens a node: it binds cfg.ListenAddr (or uses cfg.Conn), starts
// the engine and answers handshakes at once. Errors: an invalid Config (seed
// shorter than 16 bytes, unknown suite name) or the socket's error.
func Listen(cfg Config) (*Node, error) {
	if len(cfg.Seed) < handshake.MinSeedLen {
		return nil, fmt.Errorf("stt: Config.Seed must hold at least %d bytes", handshake.MinSeedLen)
	}
	names := cfg.Suites
	if names == "" {
		names = "aead"
	}
	suites, err := suite.ParseName(names)
	if err != nil {
		return nil, fmt.Errorf("stt: Config.Suites: %w", err)
	}
	if err := congestion.CheckName(cfg.Congestion); err != nil {
		return nil, fmt.Errorf("stt: Config.Congestion: %w", err)
	}
	shards := cfg.Shards
	if shards <= 0 {
		shards = runtime.GOMAXPROCS(0)
	}
	mtu := cfg.MTU
	if mtu <= 0 {
		mtu = engine.DefaultMTU
	}
	maxMTU := cfg.MaxMTU
	if maxMTU == 0 {
		maxMTU = DefaultMaxMTU
	}
	n := &Node{}
	if _, err := rand.Read(n.nodeID[:]); err != nil {
		return nil, err
	}
	c := cfg.Conn
	if c == nil {
		addr := cfg.ListenAddr
		if addr == "" {
			addr = "127.0.0.1:0"
		}
		uc, err := conn.ListenUDP("udp", addr, conn.Config{})
		if err != nil {
			return nil, fmt.Errorf("stt: listen %s: %w", addr, err)
		}
		c = uc
	}
	sn, err := session.NewNode(session.Config{
		Seed:             append([]byte(nil), cfg.Seed...),
		NodeID:           n.nodeID,
		Suites:           suites,
		HandshakeTimeout: cfg.HandshakeTimeout,
		KeepAlive:        cfg.KeepAlive,
		IdleTimeout:      cfg.IdleTimeout,
		RekeyAfterFrames: cfg.RekeyAfterFrames,
		RekeyAfterBytes:  cfg.RekeyAfterBytes,
		RekeyAfterTime:   cfg.RekeyAfterTime,
		MaxSessions:      cfg.MaxSessions,
		MaxHalfOpen:      cfg.MaxHalfOpen,
		MTU:              mtu,
		MaxMTU:           maxMTU,
		Congestion:       cfg.Congestion,
		Logger:           cfg.Logger,
		NewOwner:         func(s *session.Session) any { return &Session{s: s} },
	}, shards)
	if err != nil {
		c.Close()
		return nil, err
	}
	eng, err := engine.New(c, engine.Config{Shards: shards, BatchSize: cfg.BatchSize, MTU: mtu, Logger: cfg.Logger}, sn)
	if err != nil {
		c.Close()
		return nil, err
	}
	// Probes are honest only if the sending host never fragments them.
	sn.SetPMTUDiscovery(c.Caps().DontFragment && maxMTU > mtu)
	if err := sn.Attach(eng); err != nil {
		eng.Close()
		return nil, err
	}
	if err := eng.Start(); err != nil {
		eng.Close()
		return nil, err
	}
	n.sn, n.eng, n.addr = sn, eng, c.LocalAddr()
	return n, nil
}

// Addr returns the bound address.
func (n *Node) Addr() netip.AddrPort { return n.addr }

// NodeID returns this node's random id (fresh per Listen).
func (n *Node) NodeID() [32]byte { return n.nodeID }

// Dial runs a handshake with the node at peer and returns the session. A
// first handshake timeout is retried once. Handshake failures wrap
// ErrHandshake and the handshake sentinel (handshake.ErrAuthFailed: the
// peer does not hold the same seed; handshake.ErrHandshakeTimeout); other
// errors are ctx.Err(), ErrClosed or ErrBackpressure.
func (n *Node) Dial(ctx context.Context, peer netip.AddrPort) (*Session, error) {
	s, err := n.sn.Dial(ctx, peer)
	if err != nil {
		for _, h := range []error{handshake.ErrAuthFailed, handshake.ErrHandshakeTimeout, handshake.ErrNoCommonSuite,
			handshake.ErrBadKeyShare, handshake.ErrReflection} {
			if errors.Is(err, h) {
				return nil, fmt.Errorf("stt: dial %v: %w: %w", peer, ErrHandshake, err)
			}
		}
		return nil, err
	}
	return s.Owner.(*Session), nil
}

// Accept returns the next session a peer established with this node.
func (n *Node) Accept(ctx context.Context) (*Session, error) {
	s, err := n.sn.Accept(ctx)
	if err != nil {
		return nil, err
	}
	return s.Owner.(*Session), nil
}

// HandleFrameType registers h for the custom frame type t (0x80-0xFF;
// ErrFrameType otherwise); nil removes it. h runs on the session's shard
// goroutine with the decrypted payload, valid only during the call; it
// must not block.
func (n *Node) HandleFrameType(t uint8, h func(s *Session, streamID uint32, payload []byte)) error {
	if h == nil {
		return n.sn.SetHandler(t, nil)
	}
	return n.sn.SetHandler(t, func(s *session.Session, streamID uint32, p []byte) {
		h(s.Owner.(*Session), streamID, p)
	})
}

// NodeStats is a snapshot of a node's counters.
type NodeStats struct {
	// Engine holds the packet engine's counters.
	Engine engine.Stats
	// Handshake holds the handshake counters (handshake.Stats.Each names).
	Handshake map[string]uint64
	// Sessions holds the session layer's node-wide counters.
	Sessions map[string]uint64
}

// Stats returns a snapshot of the node's counters.
func (n *Node) Stats() NodeStats {
	st := NodeStats{Engine: n.eng.Stats(), Handshake: map[string]uint64{}, Sessions: map[string]uint64{}}
	n.sn.HandshakeStats().Each(func(k string, v uint64) { st.Handshake[k] = v })
	n.sn.Stats().Each(func(k string, v uint64) { st.Sessions[k] = v })
	return st
}

// Close sends SESSION_CLOSE(NO_ERROR) on every session, waits up to one
// second for the shards to flush them, then stops the engine and closes the
// socket. It is idempotent.
func (n *Node) Close() error {
	n.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = n.sn.Shutdown(ctx)
		cancel()
		n.err = n.eng.Close()
	})
	return n.err
}
