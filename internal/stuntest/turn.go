package stuntest

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/turn/v4"
)

// TURNConfig configures ListenTURN.
type TURNConfig struct {
	// Users maps user names to passwords (long-term credentials).
	Users map[string]string
	// Realm is the server's realm ("stt.test" if empty).
	Realm string
	// Quota, if set, is asked before every allocation; false refuses it
	// with 486 (Allocation Quota Reached).
	Quota func(username string) bool
	// ChannelBindTimeout is the lifetime of channel bindings (pion's
	// default, 10 minutes, if zero).
	ChannelBindTimeout time.Duration
}

// TURNServer is a running TURN server (pion/turn) with long-term
// credentials, relaying on 127.0.0.1. Restart stops it and starts a fresh
// one (no allocations, new nonce key) on the same address.
type TURNServer struct {
	cfg  TURNConfig
	addr netip.AddrPort

	mu     sync.Mutex
	srv    *turn.Server
	pc     *turnConn
	allocs atomic.Uint64
	drop   atomic.Bool
}

// ListenTURN starts a TURN server on a UDP socket bound to addr ("ip:port",
// port 0 for an ephemeral one).
func ListenTURN(addr string, cfg TURNConfig) (*TURNServer, error) {
	if cfg.Realm == "" {
		cfg.Realm = "stt.test"
	}
	s := &TURNServer{cfg: cfg}
	if err := s.start(addr); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *TURNServer) start(addr string) error {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return err
	}
	cc := &turnConn{PacketConn: pc, drop: &s.drop}
	keys := make(map[string][]byte, len(s.cfg.Users))
	for u, p := range s.cfg.Users {
		keys[u] = turn.GenerateAuthKey(u, s.cfg.Realm, p)
	}
	scfg := turn.ServerConfig{
		Realm: s.cfg.Realm,
		AuthHandler: func(username, _ string, _ net.Addr) ([]byte, bool) {
			k, ok := keys[username]
			return k, ok
		},
		ChannelBindTimeout: s.cfg.ChannelBindTimeout,
		EventHandler: turn.EventHandler{
			OnAllocationCreated: func(_, _ net.Addr, _, _, _ string, _ net.Addr, _ int) { s.allocs.Add(1) },
		},
		PacketConnConfigs: []turn.PacketConnConfig{{
			PacketConn: cc,
			RelayAddressGenerator: &turn.RelayAddressGeneratorStatic{
				RelayAddress: net.IPv4(127, 0, 0, 1),
				Address:      "127.0.0.1",
			},
		}},
	}
	if s.cfg.Quota != nil {
		scfg.QuotaHandler = func(username, _ string, _ net.Addr) bool { return s.cfg.Quota(username) }
	}
	srv, err := turn.NewServer(scfg)
	if err != nil {
		pc.Close()
		return fmt.Errorf("stuntest: %w", err)
	}
	s.mu.Lock()
	s.srv, s.pc, s.addr = srv, cc, pc.LocalAddr().(*net.UDPAddr).AddrPort()
	s.mu.Unlock()
	return nil
}

// Addr returns the server's address.
func (s *TURNServer) Addr() netip.AddrPort { return s.addr }

// Allocations returns the number of allocations created (over restarts).
func (s *TURNServer) Allocations() uint64 { return s.allocs.Load() }

// Received returns the number of datagrams the current server has read.
func (s *TURNServer) Received() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pc.n.Load()
}

// SetDrop makes the server ignore (true) or read (false) every datagram
// it receives: a server that stopped answering.
func (s *TURNServer) SetDrop(drop bool) { s.drop.Store(drop) }

// Restart closes the server (its allocations end) and starts a new one on
// the same address.
func (s *TURNServer) Restart() error {
	s.mu.Lock()
	srv := s.srv
	s.mu.Unlock()
	if err := srv.Close(); err != nil {
		return err
	}
	return s.start(s.addr.String())
}

// Close stops the server and closes its socket.
func (s *TURNServer) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.srv.Close()
}

// turnConn counts the datagrams read through it, or discards them while
// drop is set.
type turnConn struct {
	net.PacketConn
	n    atomic.Uint64
	drop *atomic.Bool
}

func (c *turnConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, a, err := c.PacketConn.ReadFrom(b)
		if err == nil && c.drop.Load() {
			continue
		}
		if err == nil {
			c.n.Add(1)
		}
		return n, a, err
	}
}
