package stt

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"time"

	"github.com/sttgo/stt/engine"
	"github.com/sttgo/stt/engine/conn"
	"github.com/sttgo/stt/engine/conn/wsconn"
	"github.com/sttgo/stt/identity"
	"github.com/sttgo/stt/internal/congestion"
	"github.com/sttgo/stt/internal/session"
	"github.com/sttgo/stt/suite"
)

// Node is one stt endpoint: a socket, the packet engine, and the sessions
// it runs as initiator (Dial) and responder (Accept). Its methods are safe
// for concurrent use.
type Node struct {
	sn     *session.Node
	eng    *engine.Engine
	addr   netip.AddrPort
	nodeID NodeID
	ws     *wsconn.Mux    // the UDP socket and WebSocket connections (nil with Config.Conn)
	wsAddr netip.AddrPort // the WebSocket server's address, if any
	wsPin  []byte
	reach  *reach // STUN on the data socket (reach.go)
	relay  *relay // TURN allocations on the data socket (relay.go)
	once   sync.Once
	err    error
}

// Listen opens a node: it binds cfg.ListenAddr (or uses cfg.Conn), starts
// the engine and answers handshakes at once. Errors: an invalid Config (seed
// shorter than 16 bytes, unknown suite name) or the socket's error.
func Listen(cfg Config) (*Node, error) {
	if len(cfg.Seed) < MinSeedLen {
		return nil, fmt.Errorf("stt: Config.Seed must hold at least %d bytes (got %d)", MinSeedLen, len(cfg.Seed))
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
	if cfg.Conn != nil && len(cfg.TURNServers) > 0 {
		return nil, fmt.Errorf("stt: Config.TURNServers needs the node's own UDP socket (Config.Conn must be nil)")
	}
	n := &Node{}
	key, err := nodeKey(cfg.NodeSeed)
	if err != nil {
		return nil, err
	}
	n.nodeID = NodeID(key.ID())
	c := cfg.Conn
	if c == nil {
		addr := cfg.ListenAddr
		if addr == "" {
			addr = "127.0.0.1:0"
		}
		uc, err := conn.ListenUDP("udp", addr, conn.Config{Logger: cfg.Logger})
		if err != nil {
			return nil, fmt.Errorf("stt: listen %s: %w", addr, err)
		}
		// TURN relaying sits on the UDP socket, below the WebSocket
		// multiplexer: the UDP socket, relayed peers and WebSocket
		// connections share the engine.
		var udp conn.Batch
		if n.relay, udp, err = newRelay(&cfg, uc); err != nil {
			uc.Close()
			return nil, err
		}
		mux, err := n.newMux(udp, &cfg)
		if err != nil {
			udp.Close()
			return nil, fmt.Errorf("stt: %w", err)
		}
		n.ws, n.wsPin = mux, append([]byte(nil), cfg.WebSocket.PinnedCert...)
		c = mux
	}
	var reliable func(netip.AddrPort) bool
	if n.ws != nil {
		reliable = n.ws.IsConn
	}
	sn, err := session.NewNode(session.Config{
		Seed:             append([]byte(nil), cfg.Seed...),
		NodeKey:          key,
		AllowPeer:        allowPeer(cfg.AllowPeers),
		CookieThreshold:  cfg.CookieThreshold,
		TicketLifetime:   cfg.TicketLifetime,
		Suites:           suites,
		HandshakeTimeout: cfg.HandshakeTimeout,
		KeepAlive:        cfg.KeepAlive,
		IdleTimeout:      cfg.IdleTimeout,
		RekeyAfterFrames: cfg.RekeyAfterFrames,
		RekeyAfterBytes:  cfg.RekeyAfterBytes,
		RekeyAfterTime:   cfg.RekeyAfterTime,
		MaxSessions:      cfg.MaxSessions,
		MaxHalfOpen:      cfg.MaxHalfOpen,
		MemoryBudget:     cfg.MemoryBudget,
		IPv4PrefixLen:    cfg.IPv4PrefixLen,
		MTU:              mtu,
		MaxMTU:           maxMTU,
		Congestion:       cfg.Congestion,
		ReliableCarrier:  reliable,
		Logger:           cfg.Logger,
		Rendezvous:       cfg.Rendezvous,
		HasRelay:         n.relay.has,
		Introduced:       n.relay.permit,
		ThroughRelay:     n.relay.through,
		PeerGone:         n.peerGone,
	}, shards)
	if err != nil {
		c.Close()
		return nil, err
	}
	n.sn = sn // before the engine starts: session callbacks (peerGone) read it
	n.reach, err = newReach(&cfg, c.LocalAddr())
	if err != nil {
		c.Close()
		return nil, err
	}
	eng, err := engine.New(c, engine.Config{Shards: shards, BatchSize: cfg.BatchSize, MTU: mtu, Logger: cfg.Logger,
		Foreign: n.reach.foreign()}, sn)
	if err != nil {
		n.reach.close()
		c.Close()
		return nil, fmt.Errorf("stt: %w", err)
	}
	// Probes are honest only if the sending host never fragments them.
	sn.SetPMTUDiscovery(c.Caps().DontFragment && maxMTU > mtu)
	if err := sn.Attach(eng); err != nil {
		n.reach.close()
		eng.Close()
		return nil, err
	}
	if err := eng.Start(); err != nil {
		n.reach.close()
		eng.Close()
		return nil, fmt.Errorf("stt: %w", err)
	}
	n.reach.start(eng)
	n.relay.start()
	n.sn, n.eng, n.addr = sn, eng, c.LocalAddr()
	if err := n.listenWebSocket(&cfg.WebSocket); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

// Addr returns the bound address.
func (n *Node) Addr() netip.AddrPort { return n.addr }

// NodeID returns this node's id: derived from Config.NodeSeed (the same on
// every run), or random per Listen without one.
func (n *Node) NodeID() NodeID { return n.nodeID }

// nodeKey derives the node key of seed, or of a random seed if seed is nil.
func nodeKey(seed []byte) (*identity.Key, error) {
	if seed == nil {
		var err error
		if seed, err = identity.GenerateSeed(rand.Reader); err != nil {
			return nil, fmt.Errorf("stt: node seed: %w", err)
		}
	}
	if len(seed) < MinSeedLen {
		return nil, fmt.Errorf("stt: Config.NodeSeed must hold at least %d bytes (got %d); nil for a random identity", MinSeedLen, len(seed))
	}
	k, err := identity.FromSeed(seed)
	if err != nil {
		return nil, fmt.Errorf("stt: Config.NodeSeed: %w", err)
	}
	return k, nil
}

// allowPeer returns the allow-list check of ids (nil for an empty list:
// every node is allowed).
func allowPeer(ids []NodeID) func([32]byte) bool {
	if len(ids) == 0 {
		return nil
	}
	set := make(map[[32]byte]struct{}, len(ids))
	for _, id := range ids {
		set[id] = struct{}{}
	}
	return func(id [32]byte) bool {
		_, ok := set[id]
		return ok
	}
}

// Dial resolves address ("host:port": a name, an IPv4 or an IPv6 address)
// and runs a handshake with the node there, like [Node.DialAddrPort]. Of
// the host's addresses it uses the first one this node's socket can reach
// (IPv4 only for a node listening on an IPv4 address).
//
// A "ws://host:port/path" or "wss://host:port/path" address runs the
// session over a WebSocket connection instead (Config.WebSocket: wss://
// checks the server's certificate against the system roots or
// PinnedCert; HTTP proxies come from the environment as in net/http). The
// session's RemoteAddr is then the connection's synthetic address (an
// IPv6 unique local address, see package engine/conn/wsconn), and the
// connection closes when the session ends.
func (n *Node) Dial(ctx context.Context, address string) (*Session, error) {
	return n.dial(ctx, address, NodeID{})
}

// DialPeer is Dial to the node id at address (pinning): the node there
// must prove, with its node key, that it is id. A node holding the group
// seed but another node key fails the Dial with a *HandshakeError matching
// ErrPeerIdentity; no session is established with it.
func (n *Node) DialPeer(ctx context.Context, address string, id NodeID) (*Session, error) {
	if id == (NodeID{}) {
		return nil, fmt.Errorf("stt: DialPeer %q: the zero node id pins nothing (use Dial)", address)
	}
	return n.dial(ctx, address, id)
}

func (n *Node) dial(ctx context.Context, address string, id NodeID) (*Session, error) {
	if isWebSocketURL(address) {
		return n.dialWebSocket(ctx, address, id)
	}
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("stt: dial %q: %w", address, err)
	}
	pn, err := net.LookupPort("udp", port)
	if err != nil {
		return nil, fmt.Errorf("stt: dial %q: %w", address, err)
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, fmt.Errorf("stt: dial %q: %w", address, err)
	}
	for _, ip := range ips {
		if n.unreachable(ip) == "" {
			return n.dialAddrPort(ctx, netip.AddrPortFrom(ip.Unmap(), uint16(pn)), id)
		}
	}
	return nil, fmt.Errorf("stt: dial %q: %s resolves to %v: %s", address, host, ips, n.unreachable(ips[0]))
}

// unreachable says why the node's socket cannot send to ip ("" if it
// can): an IPv4 socket reaches only IPv4 addresses, a socket bound to a
// loopback address only loopback addresses.
func (n *Node) unreachable(ip netip.Addr) string {
	local := n.addr.Addr()
	ip = ip.Unmap()
	switch {
	case local.Is4() && !ip.Is4():
		return fmt.Sprintf("this node listens on IPv4 (%v) and cannot reach an IPv6 address: listen on \"[::]:0\" or dial an IPv4 address", n.addr)
	case local.IsLoopback() && !ip.IsLoopback():
		return fmt.Sprintf("this node listens on loopback (%v) and cannot reach other hosts: listen on \"0.0.0.0:0\" or \"[::]:0\" (Config.ListenAddr)", n.addr)
	}
	return ""
}

// DialAddrPort runs a handshake with the node at peer and returns the
// session. A first handshake timeout is retried once. Errors: a
// *HandshakeError (it matches ErrHandshake and its cause: ErrAuthFailed,
// ErrHandshakeTimeout, ErrNoCommonSuite), an error wrapping the socket's
// when this node cannot send to peer at all (an unreachable network, an
// address family the socket lacks), ErrDialInProgress, ErrTableFull,
// ErrBackpressure, ErrClosed or ctx.Err().
func (n *Node) DialAddrPort(ctx context.Context, peer netip.AddrPort) (*Session, error) {
	if !peer.IsValid() || peer.Port() == 0 {
		return nil, fmt.Errorf("stt: dial %v: not a valid address and port", peer)
	}
	peer = netip.AddrPortFrom(peer.Addr().Unmap(), peer.Port())
	return n.dialAddrPort(ctx, peer, NodeID{})
}

// dialAddrPort is DialAddrPort requiring the peer to prove id (zero: any).
func (n *Node) dialAddrPort(ctx context.Context, peer netip.AddrPort, id NodeID) (*Session, error) {
	if !peer.IsValid() || peer.Port() == 0 {
		return nil, fmt.Errorf("stt: dial %v: not a valid address and port", peer)
	}
	peer = netip.AddrPortFrom(peer.Addr().Unmap(), peer.Port())
	if why := n.unreachable(peer.Addr()); why != "" {
		return nil, fmt.Errorf("stt: dial %v: %s", peer, why)
	}
	s, err := n.sn.DialExpect(ctx, peer, id)
	if err != nil {
		return nil, publicErr(err)
	}
	return (*Session)(s), nil
}

// Accept returns the next session a peer established with this node,
// blocking until one arrives, ctx ends or the node closes (ErrClosed).
// Sessions nobody accepts queue up to 128; beyond that new ones are closed
// with CodeSession ("accept queue full").
func (n *Node) Accept(ctx context.Context) (*Session, error) {
	s, err := n.sn.Accept(ctx)
	if err != nil {
		return nil, publicErr(err)
	}
	return (*Session)(s), nil
}

// HandleFrameType registers h for the custom frame type t (0x80-0xFF;
// ErrFrameType otherwise); nil removes it. h runs on the session's shard
// goroutine with the decrypted payload, valid only during the call; it
// must not block (the shard's other sessions wait) and may call the
// session's methods, such as SendFrame to answer.
func (n *Node) HandleFrameType(t uint8, h func(s *Session, streamID uint32, payload []byte)) error {
	if h == nil {
		return publicErr(n.sn.SetHandler(t, nil))
	}
	return publicErr(n.sn.SetHandler(t, func(s *session.Session, streamID uint32, p []byte) {
		h((*Session)(s), streamID, p)
	}))
}

// Shutdown closes every session gracefully (see [Session.Shutdown]: each
// waits until its streams' written bytes are acknowledged, then closes with
// CodeNoError), then closes the node. If ctx ends first, the sessions still
// open are closed at once by Close and ctx.Err() is returned.
func (n *Node) Shutdown(ctx context.Context) error {
	err := n.sn.ShutdownSessions(ctx)
	if cerr := n.Close(); err == nil {
		err = cerr
	}
	return err
}

// Close sends SESSION_CLOSE(CodeNoError) on every session at once, waits
// up to one second for the shards to flush them, then stops the engine and
// closes the socket. Peers see the close; bytes still unacknowledged on
// streams are lost (use Shutdown to wait for them). It is idempotent.
func (n *Node) Close() error {
	n.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = n.sn.Shutdown(ctx)
		cancel()
		n.reach.close()
		n.relay.close()
		n.err = n.eng.Close()
		n.sn.StopTimers() // no shard goroutine is left to re-arm one
	})
	return n.err
}
