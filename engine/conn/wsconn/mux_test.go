package wsconn

import (
	"bytes"
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/sttgo/stt/engine/conn"
)

// pair returns a server Mux listening on loopback and a client Mux with a
// connection to it; srvAddr is the server's address of that connection.
func pair(t *testing.T, scfg ServerConfig, ccfg Config) (srv, cli *Mux, cliAddr, srvAddr netip.AddrPort) {
	t.Helper()
	srv, err := New(nil, serverTestConfig)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if scfg.Addr == "" {
		scfg.Addr = "127.0.0.1:0"
	}
	la, err := srv.Listen(scfg)
	if err != nil {
		t.Fatal(err)
	}
	lastListen = la
	cli, err = New(nil, ccfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	scheme := "ws"
	if scfg.CertFile != "" {
		scheme = "wss"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cliAddr, err = cli.Dial(ctx, scheme+"://"+la.String()+DefaultPath, testDialConfig)
	if err != nil {
		t.Fatal(err)
	}
	// The server learns the connection's address from the first message.
	send(t, cli, cliAddr, []byte("hello"))
	m := recv(t, srv)
	if string(m.Buf[:m.N]) != "hello" {
		t.Fatalf("server got %q", m.Buf[:m.N])
	}
	return srv, cli, cliAddr, m.Addr
}

var testDialConfig DialConfig

var serverTestConfig Config

// lastListen is the address of the server pair started last.
var lastListen netip.AddrPort

func send(t *testing.T, m *Mux, to netip.AddrPort, p []byte) {
	t.Helper()
	msgs := []conn.Message{{Buf: p, N: len(p), Addr: to}}
	if n, err := m.WriteBatch(msgs); n != 1 || err != nil {
		t.Fatalf("WriteBatch = %d, %v", n, err)
	}
}

// recv reads one message with a deadline.
func recv(t *testing.T, m *Mux) conn.Message {
	t.Helper()
	ch := make(chan conn.Message, 1)
	errc := make(chan error, 1)
	go func() {
		msgs := []conn.Message{{Buf: make([]byte, 64<<10)}}
		n, err := m.ReadBatch(msgs)
		if err != nil || n != 1 {
			errc <- err
			return
		}
		ch <- msgs[0]
	}()
	select {
	case msg := <-ch:
		return msg
	case err := <-errc:
		t.Fatalf("ReadBatch: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("no message within 5 s")
	}
	return conn.Message{}
}

func TestRoundTrip(t *testing.T) {
	srv, cli, ca, sa := pair(t, ServerConfig{}, Config{})
	if !srv.IsConn(sa) || !cli.IsConn(ca) || srv.IsConn(ca) {
		t.Fatalf("addresses: server sees %v, client %v", sa, ca)
	}
	for _, size := range []int{0, 1, 125, 126, 1200, 8952, DefaultMaxMessage} {
		p := bytes.Repeat([]byte{byte(size)}, size)
		send(t, srv, sa, p)
		if m := recv(t, cli); !bytes.Equal(m.Buf[:m.N], p) || m.Addr != ca {
			t.Fatalf("size %d: client got %d bytes from %v", size, m.N, m.Addr)
		}
		send(t, cli, ca, p)
		if m := recv(t, srv); !bytes.Equal(m.Buf[:m.N], p) || m.Addr != sa {
			t.Fatalf("size %d: server got %d bytes from %v", size, m.N, m.Addr)
		}
	}
	// A segmented Message is one WebSocket message per segment.
	p := bytes.Repeat([]byte("abcdefgh"), 100)
	msgs := []conn.Message{{Buf: p, N: len(p), Addr: sa, SegSize: 300}}
	if n, err := srv.WriteBatch(msgs); n != 1 || err != nil {
		t.Fatal(n, err)
	}
	for off := 0; off < len(p); off += 300 {
		m := recv(t, cli)
		if !bytes.Equal(m.Buf[:m.N], p[off:min(off+300, len(p))]) {
			t.Fatalf("segment at %d: %d bytes", off, m.N)
		}
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}
