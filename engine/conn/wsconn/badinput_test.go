package wsconn

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/sttgo/stt/engine/conn"
)

// server starts a Mux with a ws:// server on loopback; closed collects
// the errors its connections ended with.
func server(t *testing.T, cfg Config) (m *Mux, addr netip.AddrPort, closed chan error) {
	t.Helper()
	closed = make(chan error, 16)
	cfg.OnClose = func(_ netip.AddrPort, err error) { closed <- err }
	m, err := New(nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	addr, err = m.Listen(ServerConfig{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	return m, addr, closed
}

// rawClient is a hand-driven WebSocket client on a plain TCP connection.
type rawClient struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

func dialRaw(t *testing.T, addr netip.AddrPort) *rawClient {
	t.Helper()
	nc, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	return &rawClient{t: t, nc: nc, br: bufio.NewReader(nc)}
}

const upgradeRequest = "GET /stt HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

// upgrade sends a valid upgrade request and checks the 101.
func (c *rawClient) upgrade() {
	c.t.Helper()
	c.write([]byte(upgradeRequest))
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		c.t.Fatalf("upgrade: %s", resp.Status)
	}
}

func (c *rawClient) write(b []byte) {
	c.t.Helper()
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatal(err)
	}
}

// frame builds a frame; masked frames use a fixed key.
func frame(op ws.OpCode, fin, masked bool, p []byte) []byte {
	mask := [4]byte{1, 2, 3, 4}
	b := appendHeader(nil, op, len(p), masked, mask)
	if !fin {
		b[0] &^= 0x80
	}
	start := len(b)
	b = append(b, p...)
	if masked {
		ws.Cipher(b[start:], mask, 0)
	}
	return b
}

// readFrame reads one (unmasked) server frame.
func (c *rawClient) readFrame() (ws.OpCode, []byte) {
	c.t.Helper()
	var hb []byte
	for {
		b, err := c.br.Peek(len(hb) + 1)
		if err != nil {
			c.t.Fatalf("reading a frame: %v", err)
		}
		hb = b
		h, n, err := parseHeader(hb)
		if err != nil {
			c.t.Fatal(err)
		}
		if n > 0 {
			c.br.Discard(n)
			p := make([]byte, h.length)
			if _, err := io.ReadFull(c.br, p); err != nil {
				c.t.Fatal(err)
			}
			return h.op, p
		}
	}
}

// expectClose reads frames until a close frame, checks its code, and then
// checks that the server closes TCP.
func (c *rawClient) expectClose(code ws.StatusCode) {
	c.t.Helper()
	for {
		op, p := c.readFrame()
		if op != ws.OpClose {
			continue
		}
		if len(p) < 2 || ws.StatusCode(binary.BigEndian.Uint16(p)) != code {
			c.t.Fatalf("close frame %v, want code %d", p, code)
		}
		c.t.Logf("close %d %q", code, p[2:])
		break
	}
	c.expectEOF()
}

func (c *rawClient) expectEOF() {
	c.t.Helper()
	if _, err := io.Copy(io.Discard, c.br); err != nil && !isReset(err) {
		c.t.Fatalf("want the server to close TCP, got %v", err)
	}
}

func isReset(err error) bool { return strings.Contains(err.Error(), "connection reset") }

func TestPlainHTTPRefused(t *testing.T) {
	m, addr, _ := server(t, Config{})
	for _, tc := range []struct {
		req  string
		want int
	}{
		{"GET /stt HTTP/1.1\r\nHost: x\r\n\r\n", http.StatusBadRequest},
		{"GET /other HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", http.StatusNotFound},
		{"GET /stt HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n", http.StatusUpgradeRequired},
		{"POST /stt HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", http.StatusMethodNotAllowed},
	} {
		c := dialRaw(t, addr)
		c.write([]byte(tc.req))
		resp, err := http.ReadResponse(c.br, nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != tc.want {
			t.Errorf("%q: %s, want %d", tc.req, resp.Status, tc.want)
		}
		c.expectEOF()
	}
	if st := m.Stats(); st.UpgradeFailed != 4 || st.Accepted != 0 {
		t.Fatalf("stats %+v", st)
	}
	eventually(t, "admissions returned", func() bool { return m.Stats().Open == 0 })
}

func TestOversizedRequestRefused(t *testing.T) {
	_, addr, _ := server(t, Config{})
	c := dialRaw(t, addr)
	c.write([]byte("GET /stt HTTP/1.1\r\nX: " + strings.Repeat("a", maxRequest) + "\r\n"))
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatal(resp.Status)
	}
}

func TestBadFrames(t *testing.T) {
	big := make([]byte, 10)
	big[0], big[1] = 0x82, 0x80|127 // binary, masked, 64-bit length
	binary.BigEndian.PutUint64(big[2:], 1<<30)
	big = append(big, 1, 2, 3, 4) // the key; the 1 GiB payload never comes
	for _, tc := range []struct {
		name string
		send []byte
		code ws.StatusCode
	}{
		{"text", frame(ws.OpText, true, true, []byte("hi")), ws.StatusUnsupportedData},
		{"unmasked", frame(ws.OpBinary, true, false, []byte("hi")), ws.StatusProtocolError},
		{"too big", big, ws.StatusMessageTooBig},
		{"just above the limit", frame(ws.OpBinary, true, true, make([]byte, DefaultMaxMessage+1)), ws.StatusMessageTooBig},
		{"reserved bits", func() []byte { b := frame(ws.OpBinary, true, true, []byte("x")); b[0] |= 0x40; return b }(), ws.StatusProtocolError},
		{"reserved opcode", frame(0x3, true, true, nil), ws.StatusProtocolError},
		{"continuation first", frame(ws.OpContinuation, true, true, []byte("x")), ws.StatusProtocolError},
		{"fragmented ping", frame(ws.OpPing, false, true, []byte("x")), ws.StatusProtocolError},
		{"long ping", frame(ws.OpPing, true, true, make([]byte, 126)), ws.StatusProtocolError},
		{"interleaved data", append(frame(ws.OpBinary, false, true, []byte("a")), frame(ws.OpBinary, true, true, []byte("b"))...), ws.StatusProtocolError},
		{"fragments above the limit", append(frame(ws.OpBinary, false, true, make([]byte, DefaultMaxMessage)), frame(ws.OpContinuation, true, true, []byte("b"))...), ws.StatusMessageTooBig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, addr, closed := server(t, Config{})
			c := dialRaw(t, addr)
			c.upgrade()
			c.write(tc.send)
			c.expectClose(tc.code)
			var pe *ProtocolError
			if err := <-closed; !errors.As(err, &pe) || pe.Code != tc.code {
				t.Fatalf("connection ended with %v", err)
			}
			if st := m.Stats(); st.ProtocolErrors != 1 || st.MessagesIn != 0 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

// TestFragmentsAndControl: a message in three fragments with a ping and a
// pong between them arrives whole; the ping is answered.
func TestFragmentsAndControl(t *testing.T) {
	m, addr, _ := server(t, Config{})
	c := dialRaw(t, addr)
	c.upgrade()
	var b []byte
	b = append(b, frame(ws.OpBinary, false, true, []byte("abc"))...)
	b = append(b, frame(ws.OpPing, true, true, []byte("p1"))...)
	b = append(b, frame(ws.OpContinuation, false, true, []byte("def"))...)
	b = append(b, frame(ws.OpPong, true, true, []byte("unsolicited"))...)
	b = append(b, frame(ws.OpContinuation, true, true, []byte("ghi"))...)
	// Byte by byte: every split point of headers and payloads.
	for i := range b {
		c.write(b[i : i+1])
	}
	if op, p := c.readFrame(); op != ws.OpPong || string(p) != "p1" {
		t.Fatalf("got %v %q, want the pong", op, p)
	}
	msg := recv(t, m)
	if string(msg.Buf[:msg.N]) != "abcdefghi" {
		t.Fatalf("got %q", msg.Buf[:msg.N])
	}
	// A close frame is echoed and TCP closed.
	c.write(frame(ws.OpClose, true, true, []byte{0x03, 0xe8}))
	c.expectClose(ws.StatusNormalClosure)
}

// TestSlowloris: an upgrade that never completes is closed after
// UpgradeTimeout.
func TestSlowloris(t *testing.T) {
	m, addr, _ := server(t, Config{UpgradeTimeout: 300 * time.Millisecond})
	c := dialRaw(t, addr)
	start := time.Now()
	c.write([]byte("GET /stt HTTP/1.1\r\nHost: x\r\n"))
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Fatal(resp.Status)
	}
	c.expectEOF()
	t.Logf("closed after %v", time.Since(start))
	eventually(t, "admission returned", func() bool { return m.Stats().Open == 0 })
}

// TestPeerClosesTCP: a connection whose peer closes TCP without a close
// frame ends at once with ErrPeerClosed, on the server and on a client.
func TestPeerClosesTCP(t *testing.T) {
	m, addr, closed := server(t, Config{})
	c := dialRaw(t, addr)
	c.upgrade()
	c.write(frame(ws.OpBinary, true, true, []byte("x")))
	recv(t, m)
	start := time.Now()
	c.nc.Close()
	select {
	case err := <-closed:
		if !errors.Is(err, ErrPeerClosed) {
			t.Fatalf("ended with %v", err)
		}
		t.Logf("server: %v after %v", err, time.Since(start))
	case <-time.After(5 * time.Second):
		t.Fatal("server connection still open")
	}
	if st := m.Stats(); st.Open != 0 {
		t.Fatalf("open %d", st.Open)
	}
	// The dialing side: the server's connection goes away.
	cclosed := make(chan error, 1)
	cli, err := New(nil, Config{OnClose: func(_ netip.AddrPort, err error) { cclosed <- err }})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ca, err := cli.Dial(ctxT(t), "ws://"+addr.String()+DefaultPath, DialConfig{})
	if err != nil {
		t.Fatal(err)
	}
	send(t, cli, ca, []byte("y"))
	sm := recv(t, m)
	m.mu.RLock()
	sc := m.conns[sm.Addr]
	m.mu.RUnlock()
	sc.be.(gnetBackend).gc.Close() // TCP close, no close frame
	select {
	case err := <-cclosed:
		if !errors.Is(err, ErrPeerClosed) {
			t.Fatalf("client ended with %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("client connection still open")
	}
	if _, err := cli.WriteBatch([]conn.Message{{Buf: []byte("z"), N: 1, Addr: ca}}); !errors.Is(err, ErrNoConn) {
		t.Fatalf("write to a closed connection: %v", err)
	}
}

// TestConnLimit: connections beyond MaxConns get 503.
func TestConnLimit(t *testing.T) {
	m, addr, _ := server(t, Config{MaxConns: 2})
	a, b := dialRaw(t, addr), dialRaw(t, addr)
	a.upgrade()
	b.upgrade()
	c := dialRaw(t, addr)
	c.write([]byte(upgradeRequest))
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatal(resp.Status)
	}
	if st := m.Stats(); st.Rejected != 1 || st.Open != 2 {
		t.Fatalf("stats %+v", st)
	}
	// A closed connection frees its place.
	a.nc.Close()
	eventually(t, "a's place freed", func() bool { return m.Stats().Open == 1 })
	d := dialRaw(t, addr)
	d.upgrade()
}

// TestWriteBounded: a peer that never reads fills its connection's send
// buffer; WriteBatch then waits at most WriteTimeout and the connection
// closes (nothing grows without bound).
func TestWriteBounded(t *testing.T) {
	m, addr, closed := server(t, Config{WriteTimeout: 200 * time.Millisecond, MaxBuffered: 64 << 10})
	c := dialRaw(t, addr)
	c.upgrade()
	c.write(frame(ws.OpBinary, true, true, []byte("x")))
	to := recv(t, m).Addr
	p := make([]byte, 8<<10)
	var err error
	for i := 0; i < 100000 && err == nil; i++ { // the socket buffers hold a few MB at most
		_, err = m.WriteBatch([]conn.Message{{Buf: p, N: len(p), Addr: to}})
	}
	if !errors.Is(err, ErrWriteTimeout) {
		t.Fatalf("WriteBatch: %v", err)
	}
	if err := <-closed; !errors.Is(err, ErrWriteTimeout) {
		t.Fatalf("ended with %v", err)
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
