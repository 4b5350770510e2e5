package wsconn

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"time"

	"github.com/gobwas/ws"
)

// Listen starts a WebSocket server on cfg.Addr whose upgraded connections
// join the Mux, and returns the address bound. Plain ws:// runs on a gnet
// event loop; wss:// (CertFile and KeyFile set) on crypto/tls over a
// net.Listener (gnet has no TLS). The server stops when the Mux closes.
func (m *Mux) Listen(cfg ServerConfig) (netip.AddrPort, error) {
	if cfg.Path == "" {
		cfg.Path = DefaultPath
	}
	m.ensurePool()
	if (cfg.CertFile == "") != (cfg.KeyFile == "") {
		return netip.AddrPort{}, errors.New("wsconn: CertFile and KeyFile go together")
	}
	if cfg.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
		if err != nil {
			return netip.AddrPort{}, fmt.Errorf("wsconn: %w", err)
		}
		tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		ln, err := tls.Listen("tcp", cfg.Addr, tc)
		if err != nil {
			return netip.AddrPort{}, fmt.Errorf("wsconn: %w", err)
		}
		return m.serveListener(ln, cfg.Path)
	}
	if runtime.GOOS == "windows" {
		ln, err := net.Listen("tcp", cfg.Addr)
		if err != nil {
			return netip.AddrPort{}, fmt.Errorf("wsconn: %w", err)
		}
		return m.serveListener(ln, cfg.Path)
	}
	return m.listenGnet(cfg)
}

// netServer accepts on a net.Listener (TLS, or plain on Windows) and runs
// each connection on a netBackend.
type netServer struct {
	m    *Mux
	ln   net.Listener
	up   ws.Upgrader
	once sync.Once
	done chan struct{}
}

func (m *Mux) serveListener(ln net.Listener, path string) (netip.AddrPort, error) {
	s := &netServer{m: m, ln: ln, up: upgrader(path), done: make(chan struct{})}
	if !m.addServer(s) {
		ln.Close()
		return netip.AddrPort{}, ErrClosed
	}
	go s.accept()
	ap, err := netip.ParseAddrPort(ln.Addr().String())
	if err != nil {
		return netip.AddrPort{}, err
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
}

func (s *netServer) close() {
	s.once.Do(func() {
		s.ln.Close()
		<-s.done
	})
}

func (s *netServer) accept() {
	defer close(s.done)
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return
		}
		if !s.m.admit() {
			_ = nc.SetWriteDeadline(time.Now().Add(time.Second))
			_, _ = nc.Write(resp503)
			nc.Close()
			continue
		}
		go s.serve(nc)
	}
}

// serve upgrades one connection within UpgradeTimeout (TLS handshake
// included), then runs it.
func (s *netServer) serve(nc net.Conn) {
	_ = nc.SetDeadline(time.Now().Add(s.m.cfg.UpgradeTimeout))
	if _, err := s.up.Upgrade(nc); err != nil {
		s.m.ctr.upgradeFailed.Add(1)
		s.m.unadmit()
		nc.Close()
		return
	}
	_ = nc.SetDeadline(noDeadline)
	c := newConn(s.m, false)
	s.m.register(c)
	s.m.ctr.accepted.Add(1)
	startNet(c, nc, nil)
}
