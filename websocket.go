package stt

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/engine/conn"
	"github.com/sttgo/stt/engine/conn/wsconn"
)

// isWebSocketURL reports whether address is a ws:// or wss:// URL.
func isWebSocketURL(address string) bool {
	return strings.HasPrefix(address, "ws://") || strings.HasPrefix(address, "wss://")
}

// newMux wraps the node's UDP socket in the WebSocket multiplexer.
func (n *Node) newMux(udp conn.Batch, cfg *Config) (*wsconn.Mux, error) {
	idle := cfg.IdleTimeout
	if idle <= 0 {
		idle = 60 * time.Second
	}
	return wsconn.New(udp, wsconn.Config{
		MaxConns: cfg.WebSocket.MaxConns,
		// Keep-alives hold an established session's connection open; a
		// connection that carries none closes a little after the session
		// would have timed out.
		IdleTimeout: idle + 15*time.Second,
		OnClose:     n.onWebSocketClosed,
	})
}

// listenWebSocket starts the WebSocket server of cfg, if any.
func (n *Node) listenWebSocket(cfg *WebSocketConfig) error {
	if cfg.ListenAddr == "" {
		return nil
	}
	if n.ws == nil {
		return fmt.Errorf("stt: Config.WebSocket.ListenAddr needs the node's own UDP socket (Config.Conn must be nil)")
	}
	a, err := n.ws.Listen(wsconn.ServerConfig{Addr: cfg.ListenAddr, Path: cfg.Path, CertFile: cfg.CertFile, KeyFile: cfg.KeyFile})
	if err != nil {
		return fmt.Errorf("stt: WebSocket listener: %w", err)
	}
	n.wsAddr = a
	return nil
}

// WebSocketAddr returns the address of the node's WebSocket server, or
// the zero AddrPort without one.
func (n *Node) WebSocketAddr() netip.AddrPort { return n.wsAddr }

// dialWebSocket opens a WebSocket connection to url and runs the
// handshake over it. The connection closes when the session ends.
func (n *Node) dialWebSocket(ctx context.Context, url string, id NodeID) (*Session, error) {
	if n.ws == nil {
		return nil, fmt.Errorf("stt: dial %s: this node has no WebSocket transport (Config.Conn is set)", url)
	}
	addr, err := n.ws.Dial(ctx, url, wsconn.DialConfig{PinnedCert: n.wsPin})
	if err != nil {
		return nil, fmt.Errorf("stt: dial %s: %w", url, err)
	}
	s, err := n.sn.DialExpect(ctx, addr, id)
	if err != nil {
		n.ws.CloseConn(addr)
		return nil, publicErr(err)
	}
	go func() {
		<-s.Done()
		n.ws.CloseConn(addr)
	}()
	return (*Session)(s), nil
}

// onWebSocketClosed ends the sessions of a WebSocket connection that
// ended (the peer closed TCP, sent a close frame, broke the protocol, or
// went silent): at once, with CodeInternal and the connection's error as
// reason, instead of waiting for the idle timeout.
func (n *Node) onWebSocketClosed(addr netip.AddrPort, cause error) {
	go func() {
		if n.sn == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		l, err := n.sn.Sessions(ctx)
		if err != nil {
			return
		}
		for _, s := range l {
			if s.RemoteAddr() == addr {
				_ = s.Close(codec.ErrorCode(CodeInternal), "websocket connection ended: "+cause.Error())
			}
		}
	}()
}
