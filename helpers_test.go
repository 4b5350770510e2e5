package stt

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/engine/conn"
	"github.com/sttgo/stt/engine/conn/conntest"
)

var testSeed = []byte("0123456789abcdef0123456789abcdef")

// hookConn wraps a conn.Batch and lets a test inspect, alter or drop every
// outgoing datagram (GSO must be off so that one Message is one datagram).
type hookConn struct {
	conn.Batch
	mu   sync.Mutex
	hook func(m *conn.Message) (keep bool)
}

func (h *hookConn) setHook(f func(m *conn.Message) bool) {
	h.mu.Lock()
	h.hook = f
	h.mu.Unlock()
}

func (h *hookConn) WriteBatch(msgs []conn.Message) (int, error) {
	h.mu.Lock()
	f := h.hook
	h.mu.Unlock()
	if f == nil {
		return h.Batch.WriteBatch(msgs)
	}
	for i := range msgs {
		if f(&msgs[i]) {
			if _, err := h.Batch.WriteBatch(msgs[i : i+1]); err != nil {
				return i, err
			}
		}
	}
	return len(msgs), nil
}

func frameType(b []byte) (uint8, bool) {
	var f codec.Frame
	if _, err := codec.Decode(b, &f); err != nil {
		return 0, false
	}
	return f.Type, true
}

type testNet struct {
	t   *testing.T
	net *conntest.Network
	seq int
}

func newTestNet(t *testing.T, seed uint64) *testNet {
	n := conntest.NewNetwork(conntest.Config{Seed: seed, DisableGSO: true, QueueLen: 8192})
	t.Cleanup(func() { n.Close() })
	return &testNet{t: t, net: n}
}

func (tn *testNet) addr() netip.AddrPort {
	tn.seq++
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(tn.seq >> 8), byte(tn.seq)}), 4000)
}

func (tn *testNet) endpoint() *conntest.Endpoint {
	ep, err := tn.net.Listen(tn.addr())
	if err != nil {
		tn.t.Fatal(err)
	}
	return ep
}

// node starts a node on the network; mod may adjust its Config.
func (tn *testNet) node(mod func(*Config)) (*Node, *hookConn) {
	h := &hookConn{Batch: tn.endpoint()}
	cfg := Config{Seed: testSeed, Conn: h, Shards: 2}
	if mod != nil {
		mod(&cfg)
	}
	n, err := Listen(cfg)
	if err != nil {
		tn.t.Fatal(err)
	}
	tn.t.Cleanup(func() { n.Close() })
	return n, h
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// pair dials b from a and returns both ends.
func pair(t *testing.T, a, b *Node) (*Session, *Session) {
	t.Helper()
	ctx := ctxT(t, 20*time.Second)
	acc := acceptOne(t, b)
	sa, err := a.DialAddrPort(ctx, b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	sb := <-acc
	if sb == nil {
		t.FailNow()
	}
	return sa, sb
}

func recv(t *testing.T, s *Session) ([]byte, uint32) {
	t.Helper()
	buf := make([]byte, 2048)
	n, st, err := s.ReceiveDatagram(ctxT(t, 10*time.Second), buf)
	if err != nil {
		t.Fatal(err)
	}
	return buf[:n], st
}

// sendRetry sends, retrying on backpressure.
func sendRetry(t *testing.T, s *Session, st uint32, p []byte) {
	t.Helper()
	for {
		err := s.SendDatagram(st, p)
		if err == nil {
			return
		}
		if err != ErrBackpressure {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// eventually polls cond (no timing assertion: the bound only stops a hung
// test).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition never became true: %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func eventuallyQuiet() { time.Sleep(20 * time.Millisecond) }
