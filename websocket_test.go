package stt

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sttgo/stt/engine/conn/wsconn/wstest"
)

// wsPair starts a node with a WebSocket listener and a client node, and
// dials the first from the second over ws://.
func wsPair(t *testing.T, mod func(*Config)) (srv, cli *Node, sc, ss *Session) {
	t.Helper()
	cfg := Config{Seed: testSeed, Shards: 2, WebSocket: WebSocketConfig{ListenAddr: "127.0.0.1:0"}}
	if mod != nil {
		mod(&cfg)
	}
	srv, err := Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	cli, err = Listen(Config{Seed: testSeed, Shards: 2, WebSocket: WebSocketConfig{PinnedCert: cfg.WebSocket.PinnedCert}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	scheme := "ws"
	if cfg.WebSocket.CertFile != "" {
		scheme = "wss"
	}
	ctx := ctxT(t, 20*time.Second)
	acc := make(chan *Session, 1)
	go func() {
		s, err := srv.Accept(ctx)
		if err != nil {
			t.Error(err)
		}
		acc <- s
	}()
	sc, err = cli.Dial(ctx, scheme+"://"+srv.WebSocketAddr().String()+"/stt")
	if err != nil {
		t.Fatal(err)
	}
	ss = <-acc
	if ss == nil {
		t.FailNow()
	}
	return srv, cli, sc, ss
}

func TestWebSocketSession(t *testing.T) {
	srv, cli, sc, ss := wsPair(t, nil)
	if !sc.RemoteAddr().Addr().Is6() || !srv.ws.IsConn(ss.RemoteAddr()) || !cli.ws.IsConn(sc.RemoteAddr()) {
		t.Fatalf("peer addresses %v / %v are not synthetic WebSocket addresses", sc.RemoteAddr(), ss.RemoteAddr())
	}
	sendRetry(t, sc, 7, []byte("over websocket"))
	if p, st := recv(t, ss); string(p) != "over websocket" || st != 7 {
		t.Fatalf("got %q on %d", p, st)
	}
	sendRetry(t, ss, 8, []byte("and back"))
	if p, _ := recv(t, sc); string(p) != "and back" {
		t.Fatalf("got %q", p)
	}
	size := 64 << 20
	if testing.Short() || raceEnabled {
		size = 4 << 20
	}
	for _, n := range []int{1, 16} {
		t.Run(itoa(n)+"streams", func(t *testing.T) {
			transfer(t, sc, ss, n, size/n, 120*time.Second)
		})
	}
	st := sc.Stats()
	t.Logf("client: %d stream frames, %d retransmits, %d lost, cwnd %d", st.StreamFramesOut, st.Retransmits, st.LostFrames, st.CongestionWindow)
	// A reliable carrier: nothing was retransmitted on a timer, and no
	// congestion window was applied.
	if st.Retransmits != 0 || st.LostFrames != 0 {
		t.Errorf("retransmissions over TCP: %d retransmits, %d lost", st.Retransmits, st.LostFrames)
	}
	if st.CongestionWindow < 1<<30 {
		t.Errorf("congestion window %d on a reliable carrier", st.CongestionWindow)
	}
}

// TestWebSocketAndUDPSessions: one node holds a UDP session and a
// WebSocket session at once, and both carry data.
func TestWebSocketAndUDPSessions(t *testing.T) {
	srv, cli, sc, ss := wsPair(t, nil)
	u, err := Listen(Config{Seed: testSeed, Shards: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	ua, ub := pair(t, u, srv) // u dials srv over UDP
	_ = cli
	for i := range 3 {
		sendRetry(t, sc, 1, []byte("ws"))
		sendRetry(t, ua, 2, []byte("udp"))
		if p, _ := recv(t, ss); string(p) != "ws" {
			t.Fatalf("%d: ws session got %q", i, p)
		}
		if p, _ := recv(t, ub); string(p) != "udp" {
			t.Fatalf("%d: udp session got %q", i, p)
		}
	}
	if ub.RemoteAddr() != u.Addr() || srv.ws.IsConn(ub.RemoteAddr()) || !srv.ws.IsConn(ss.RemoteAddr()) {
		t.Fatalf("addresses: udp %v, ws %v", ub.RemoteAddr(), ss.RemoteAddr())
	}
	transfer(t, sc, ss, 2, 1<<20, 60*time.Second)
	transfer(t, ua, ub, 2, 1<<20, 60*time.Second)
}

// TestWebSocketConnClosed: when the WebSocket connection under a session
// is closed (here by the server's transport, with a close frame), both
// sides' sessions end within a second with an error that says so (the
// reference freezes), and the client can dial again. TestWebSocketTCPCut
// cuts TCP without a close frame.
func TestWebSocketConnClosed(t *testing.T) {
	srv, cli, sc, ss := wsPair(t, nil)
	_ = cli
	// Cut the connection from the server side, without STT's close.
	start := time.Now()
	srv.ws.CloseConn(ss.RemoteAddr())
	for _, s := range []*Session{ss, sc} {
		select {
		case <-s.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("session still open 5 s after its connection closed")
		}
	}
	el := time.Since(start)
	t.Logf("sessions ended %v after the TCP close: %v / %v", el, sc.Err(), ss.Err())
	if el > time.Second {
		t.Errorf("sessions ended after %v (> 1 s)", el)
	}
	for _, s := range []*Session{sc, ss} {
		var ce *CloseError
		if !errors.As(s.Err(), &ce) || ce.Code != CodeInternal {
			t.Fatalf("session error %v", s.Err())
		}
	}
	// The client can dial again.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() { _, _ = srv.Accept(ctx) }()
	s2, err := cli.Dial(ctx, "ws://"+srv.WebSocketAddr().String()+"/stt")
	if err != nil {
		t.Fatal(err)
	}
	s2.Close(CodeNoError, "")
}

// tcpRelay forwards TCP connections from its own address to target; kill
// closes every relayed connection at once (both TCP sides see it, and no
// WebSocket close frame is sent).
type tcpRelay struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func newTCPRelay(t *testing.T, target string) *tcpRelay {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &tcpRelay{ln: ln}
	t.Cleanup(func() { ln.Close(); r.kill() })
	go func() {
		for {
			a, err := ln.Accept()
			if err != nil {
				return
			}
			b, err := net.Dial("tcp", target)
			if err != nil {
				a.Close()
				continue
			}
			r.mu.Lock()
			r.conns = append(r.conns, a, b)
			r.mu.Unlock()
			go func() { io.Copy(a, b); a.Close() }()
			go func() { io.Copy(b, a); b.Close() }()
		}
	}()
	return r
}

func (r *tcpRelay) kill() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.conns {
		c.Close()
	}
	r.conns = nil
}

// TestWebSocketTCPCut: the TCP connection under a session dies without a
// WebSocket close frame (a relay in between closes both sides): both
// sessions end within a second with an error naming the closed
// connection, while a stream is blocked reading.
func TestWebSocketTCPCut(t *testing.T) {
	srv, err := Listen(Config{Seed: testSeed, Shards: 2, WebSocket: WebSocketConfig{ListenAddr: "127.0.0.1:0"}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cli, err := Listen(Config{Seed: testSeed, Shards: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	relay := newTCPRelay(t, srv.WebSocketAddr().String())
	ctx := ctxT(t, 20*time.Second)
	acc := make(chan *Session, 1)
	go func() {
		s, _ := srv.Accept(ctx)
		acc <- s
	}()
	sc, err := cli.Dial(ctx, "ws://"+relay.ln.Addr().String()+"/stt")
	if err != nil {
		t.Fatal(err)
	}
	ss := <-acc
	st, err := sc.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	readErr := make(chan error, 1)
	go func() {
		_, err := st.Read(make([]byte, 10))
		readErr <- err
	}()
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	relay.kill()
	for _, s := range []*Session{sc, ss} {
		select {
		case <-s.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("session still open 5 s after TCP died")
		}
	}
	el := time.Since(start)
	t.Logf("ended after %v: client %v; server %v", el, sc.Err(), ss.Err())
	if el > time.Second {
		t.Errorf("sessions ended after %v (> 1 s)", el)
	}
	for _, s := range []*Session{sc, ss} {
		var ce *CloseError
		if !errors.As(s.Err(), &ce) || ce.Code != CodeInternal || !strings.Contains(ce.Reason, "websocket connection ended") {
			t.Fatalf("session error %v", s.Err())
		}
	}
	select {
	case err := <-readErr:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("blocked Read returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("blocked Read still blocked")
	}
}

// TestWebSocketTLS: sessions over wss:// with a certificate generated in
// the test, pinned by the client.
func TestWebSocketTLS(t *testing.T) {
	cf, kf, der := wstest.Cert(t)
	_, _, sc, ss := wsPair(t, func(c *Config) {
		c.WebSocket.CertFile, c.WebSocket.KeyFile, c.WebSocket.PinnedCert = cf, kf, der
	})
	size := 8 << 20
	if raceEnabled {
		size = 1 << 20
	}
	transfer(t, sc, ss, 4, size/4, 60*time.Second)
	sendRetry(t, ss, 3, []byte("tls"))
	if p, _ := recv(t, sc); string(p) != "tls" {
		t.Fatalf("got %q", p)
	}
}
