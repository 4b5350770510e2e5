package stt

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/nettest"

	"github.com/sttgo/stt/engine/conn"
	"github.com/sttgo/stt/engine/conn/conntest"
)

// udpNode listens on a real loopback UDP socket at addr ("127.0.0.1:0",
// "[::1]:0"), skipping the test if the system cannot.
func udpNode(t *testing.T, addr string) *Node {
	t.Helper()
	n, err := Listen(Config{Seed: testSeed, ListenAddr: addr, Shards: 1})
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// acceptOne accepts one session on n in the background.
func acceptOne(t *testing.T, n *Node) <-chan *Session {
	ch := make(chan *Session, 1)
	go func() {
		s, err := n.Accept(ctxT(t, 20*time.Second))
		if err != nil {
			t.Error(err)
		}
		ch <- s
	}()
	return ch
}

// TestDialHostPort: Dial takes "host:port" with a name, an IPv4 or an IPv6
// address, and picks an address the node's socket can reach.
func TestDialHostPort(t *testing.T) {
	v4 := udpNode(t, "127.0.0.1:0")
	srv4 := udpNode(t, "127.0.0.1:0")
	port := srv4.Addr().Port()
	for _, addr := range []string{srv4.Addr().String(), net.JoinHostPort("localhost", strconv.Itoa(int(port)))} {
		acc := acceptOne(t, srv4)
		s, err := v4.Dial(ctxT(t, 20*time.Second), addr)
		if err != nil {
			t.Fatalf("Dial(%q): %v", addr, err)
		}
		if s.RemoteAddr() != srv4.Addr() {
			t.Fatalf("Dial(%q) reached %v, want %v", addr, s.RemoteAddr(), srv4.Addr())
		}
		<-acc
	}
	if _, err := v4.Dial(ctxT(t, time.Second), "no-port"); err == nil || !strings.HasPrefix(err.Error(), "stt: ") {
		t.Fatalf("Dial without a port: %v", err)
	}

	srv6 := udpNode(t, "[::1]:0")
	any6 := udpNode(t, "[::]:0")
	acc := acceptOne(t, srv6)
	s, err := any6.Dial(ctxT(t, 20*time.Second), srv6.Addr().String())
	if err != nil {
		t.Fatalf("IPv6 dial: %v", err)
	}
	if s.RemoteAddr() != srv6.Addr() {
		t.Fatalf("IPv6 dial reached %v, want %v", s.RemoteAddr(), srv6.Addr())
	}
	<-acc
}

// TestDialUnreachableFailsFast: a node whose socket cannot send to the
// peer at all says so at once, with a message that says what to do,
// instead of timing out.
func TestDialUnreachableFailsFast(t *testing.T) {
	n := udpNode(t, "127.0.0.1:0")
	for peer, want := range map[string]string{
		"[::1]:9":     "cannot reach an IPv6 address",
		"240.0.0.1:9": "loopback",
	} {
		start := time.Now()
		_, err := n.Dial(ctxT(t, 30*time.Second), peer)
		if err == nil || !strings.HasPrefix(err.Error(), "stt: ") || !strings.Contains(err.Error(), want) {
			t.Fatalf("Dial(%q): %v, want an stt: error mentioning %q", peer, err, want)
		}
		if errors.Is(err, ErrHandshakeTimeout) {
			t.Fatalf("Dial(%q) timed out instead of failing at once: %v (%v)", peer, err, time.Since(start))
		}
	}
}

// refuseConn fails every send to one address with ENETUNREACH, as a
// socket without a route there does.
type refuseConn struct {
	conn.Batch
	to netip.AddrPort
}

func (c *refuseConn) WriteBatch(msgs []conn.Message) (int, error) {
	for i := range msgs {
		if msgs[i].Addr == c.to {
			if i > 0 {
				if _, err := c.Batch.WriteBatch(msgs[:i]); err != nil {
					return 0, err
				}
			}
			return i, &net.OpError{Op: "write", Net: "udp", Err: syscall.ENETUNREACH}
		}
	}
	return c.Batch.WriteBatch(msgs)
}

// TestDialSendErrorFailsFast: when the socket refuses the handshake's
// datagram (no route), Dial returns that error at once, not a timeout.
func TestDialSendErrorFailsFast(t *testing.T) {
	tn := newTestNet(t, 21)
	dead := tn.addr()
	n, err := Listen(Config{Seed: testSeed, Conn: &refuseConn{Batch: tn.endpoint(), to: dead}, HandshakeTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	_, err = n.DialAddrPort(ctxT(t, 30*time.Second), dead)
	if !errors.Is(err, syscall.ENETUNREACH) || !strings.HasPrefix(err.Error(), "stt: dial "+dead.String()) {
		t.Fatalf("dial: %v, want an stt: error wrapping ENETUNREACH", err)
	}
}

// TestHandshakeErrorNamesPeerAndTime: a timeout says whom and how long.
func TestHandshakeErrorNamesPeerAndTime(t *testing.T) {
	tn := newTestNet(t, 22)
	a, _ := tn.node(func(c *Config) { c.HandshakeTimeout = 100 * time.Millisecond })
	silent := tn.endpoint().LocalAddr()
	_, err := a.DialAddrPort(ctxT(t, 10*time.Second), silent)
	var he *HandshakeError
	if !errors.As(err, &he) || he.Peer != silent || he.Elapsed < 200*time.Millisecond ||
		!errors.Is(err, ErrHandshake) || !errors.Is(err, ErrHandshakeTimeout) {
		t.Fatalf("dial: %#v", err)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "stt: handshake with "+silent.String()+" failed after ") {
		t.Fatalf("message %q", msg)
	}
}

// TestReceiveDatagramTruncated: a datagram longer than the buffer fills it
// and reports ErrTruncated; n never exceeds len(buf).
func TestReceiveDatagramTruncated(t *testing.T) {
	tn := newTestNet(t, 23)
	a, _ := tn.node(nil)
	b, _ := tn.node(nil)
	sa, sb := pair(t, a, b)
	sendRetry(t, sa, 3, []byte("0123456789"))
	sendRetry(t, sa, 4, []byte("short"))
	buf := make([]byte, 4)
	n, st, err := sb.ReceiveDatagram(ctxT(t, 10*time.Second), buf)
	if n != 4 || st != 3 || !errors.Is(err, ErrTruncated) || string(buf) != "0123" {
		t.Fatalf("long datagram: n %d stream %d err %v buf %q", n, st, err, buf)
	}
	buf = make([]byte, 64)
	n, st, err = sb.ReceiveDatagram(ctxT(t, 10*time.Second), buf)
	if err != nil || st != 4 || string(buf[:n]) != "short" {
		t.Fatalf("next datagram: %q stream %d err %v", buf[:n], st, err)
	}
	if max := sa.MaxDatagramSize(); max < 1000 || sa.SendDatagram(1, make([]byte, max)) != nil ||
		!errors.Is(sa.SendDatagram(1, make([]byte, max+1)), ErrTooLarge) {
		t.Fatalf("MaxDatagramSize %d is not the bound SendDatagram applies", max)
	}
}

// TestStreamIsNetConn runs x/net's conformance suite for net.Conn over a
// stream between two nodes.
func TestStreamIsNetConn(t *testing.T) {
	tn := newTestNet(t, 24)
	a, _ := tn.node(nil)
	b, _ := tn.node(nil)
	sa, sb := pair(t, a, b)
	nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
		ctx := ctxT(t, 20*time.Second)
		x, err := sa.OpenStream(ctx)
		if err != nil {
			return nil, nil, nil, err
		}
		// The peer learns of a stream with its first byte: send one and
		// read it, so both ends start clean.
		if _, err := x.Write([]byte{1}); err != nil {
			return nil, nil, nil, err
		}
		y, err := sb.AcceptStream(ctx)
		if err != nil {
			return nil, nil, nil, err
		}
		if _, err := io.ReadFull(y, make([]byte, 1)); err != nil {
			return nil, nil, nil, err
		}
		if x.RemoteAddr().String() != b.Addr().String() || y.LocalAddr().String() != b.Addr().String() {
			return nil, nil, nil, errors.New("stream addresses are not the sessions'")
		}
		return x, y, func() { x.Close(); y.Close() }, nil
	})
}

// TestShutdownDeliversEverything: Shutdown returns only after the peer has
// every written byte, then closes with CodeNoError; Close ends at once.
func TestShutdownDeliversEverything(t *testing.T) {
	tn := newTestNet(t, 25)
	a, _ := tn.node(nil)
	b, _ := tn.node(nil)
	sa, sb := pair(t, a, b)
	// A slow path, so that much is in flight when Shutdown is called.
	if err := tn.net.SetLink(a.Addr(), b.Addr(), conntest.Impairment{Delay: 20 * time.Millisecond, Loss: 0.02}); err != nil {
		t.Fatal(err)
	}
	want := bytes.Repeat([]byte("shutdown waits for every byte "), 40000) // 1.2 MB
	st, err := sa.OpenStream(ctxT(t, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	var rerr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		in, err := sb.AcceptStream(ctxT(t, 30*time.Second))
		if err != nil {
			rerr = err
			return
		}
		got, rerr = io.ReadAll(in)
	}()
	if _, err := st.Write(want); err != nil {
		t.Fatal(err)
	}
	if err := sa.Shutdown(ctxT(t, 60*time.Second), "done"); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	wg.Wait()
	var ce *CloseError
	if !bytes.Equal(got, want) || !errors.As(rerr, &ce) || ce.Code != CodeNoError || !ce.Remote || ce.Reason != "done" {
		t.Fatalf("peer read %d of %d bytes, then %v", len(got), len(want), rerr)
	}
	if err := sa.Shutdown(ctxT(t, time.Second), ""); !errors.Is(err, ErrClosed) {
		t.Fatalf("Shutdown of a closed session: %v", err)
	}
}

// TestSilentWithoutLogger: a node given no logger writes nothing to the
// default logger, from start to close.
func TestSilentWithoutLogger(t *testing.T) {
	var mu sync.Mutex
	var records []string
	prev := slog.Default()
	slog.SetDefault(slog.New(recordHandler{func(r slog.Record) {
		mu.Lock()
		records = append(records, r.Message)
		mu.Unlock()
	}}))
	defer slog.SetDefault(prev)
	n1 := udpNode(t, "127.0.0.1:0")
	n2 := udpNode(t, "127.0.0.1:0")
	acc := acceptOne(t, n2)
	s, err := n1.DialAddrPort(ctxT(t, 20*time.Second), n2.Addr())
	if err != nil {
		t.Fatal(err)
	}
	<-acc
	s.Close(CodeNoError, "")
	n1.Close()
	n2.Close()
	mu.Lock()
	defer mu.Unlock()
	if len(records) != 0 {
		t.Fatalf("the library logged without a logger: %q", records)
	}
}

type recordHandler struct{ f func(slog.Record) }

func (h recordHandler) Enabled(context.Context, slog.Level) bool      { return true }
func (h recordHandler) Handle(_ context.Context, r slog.Record) error { h.f(r); return nil }
func (h recordHandler) WithAttrs([]slog.Attr) slog.Handler            { return h }
func (h recordHandler) WithGroup(string) slog.Handler                 { return h }
