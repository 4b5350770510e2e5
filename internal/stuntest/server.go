// Package stuntest runs a real STUN server for tests: pion/turn's server
// (github.com/pion/turn/v4), which answers RFC 8489 Binding requests
// without authentication, on a UDP socket of the caller's choice. It counts
// the datagrams the server reads, so a test can see keep-alives arrive.
package stuntest

import (
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"

	"github.com/pion/turn/v4"
)

// Server is a running STUN server.
type Server struct {
	srv  *turn.Server
	pc   *countingConn
	addr netip.AddrPort
}

// Listen starts a server on a UDP socket bound to addr ("ip:port", port 0
// for an ephemeral one).
func Listen(addr string) (*Server, error) {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, err
	}
	cc := &countingConn{PacketConn: pc}
	srv, err := turn.NewServer(turn.ServerConfig{
		Realm:             "stt.test",
		PacketConnConfigs: []turn.PacketConnConfig{{PacketConn: cc}},
	})
	if err != nil {
		pc.Close()
		return nil, fmt.Errorf("stuntest: %w", err)
	}
	return &Server{srv: srv, pc: cc, addr: pc.LocalAddr().(*net.UDPAddr).AddrPort()}, nil
}

// Addr returns the server's address.
func (s *Server) Addr() netip.AddrPort { return s.addr }

// Received returns the number of datagrams the server has read.
func (s *Server) Received() uint64 { return s.pc.n.Load() }

// Close stops the server and closes its socket.
func (s *Server) Close() error { return s.srv.Close() }

// countingConn counts the datagrams read through it.
type countingConn struct {
	net.PacketConn
	n atomic.Uint64
}

func (c *countingConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, a, err := c.PacketConn.ReadFrom(b)
	if err == nil {
		c.n.Add(1)
	}
	return n, a, err
}
