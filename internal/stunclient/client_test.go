package stunclient

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/stun/v3"
	"github.com/sttgo/stt/engine"
	"github.com/sttgo/stt/engine/conn"
	"github.com/sttgo/stt/internal/stuntest"
)

// nopHandler drops STT frames (none arrive in these tests).
type nopHandler struct{}

func (nopHandler) HandleBatch(*engine.Shard, []engine.Inbound) {}

// engineClient starts an engine on a loopback UDP socket with a client
// wired to it as a node wires them: Foreign -> Handle, SendRaw <- Bind.
func engineClient(t *testing.T, cfg Config) (*engine.Engine, *Client) {
	t.Helper()
	uc, err := conn.ListenUDP("udp4", "127.0.0.1:0", conn.Config{})
	if err != nil {
		t.Skipf("cannot open loopback UDP: %v", err)
	}
	var c *Client
	e, err := engine.New(uc, engine.Config{Shards: 1, Foreign: func(from netip.AddrPort, b []byte) {
		if engine.ClassifyForeign(b) == engine.STUN {
			c.Handle(from, b)
		}
	}}, nopHandler{})
	if err != nil {
		t.Fatal(err)
	}
	if c, err = New(e.SendRaw, cfg); err != nil {
		t.Fatal(err)
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		e.Close()
	})
	return e, c
}

// TestBindRealServer binds through the engine's raw path to pion/turn's
// STUN server on loopback: the reflexive address is the engine's own
// (no NAT in between), and the engine counted the STUN traffic.
func TestBindRealServer(t *testing.T) {
	srv, err := stuntest.Listen("127.0.0.1:0")
	if err != nil {
		t.Skipf("cannot start the STUN server: %v", err)
	}
	defer srv.Close()
	e, c := engineClient(t, Config{Servers: []string{srv.Addr().String()}, RTO: 50 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := c.Bind(ctx, srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if got != e.LocalAddr() {
		t.Errorf("reflexive address %v, want the engine's %v", got, e.LocalAddr())
	}
	addrs, err := c.Reflexive(ctx)
	if err != nil || len(addrs) != 1 || addrs[0] != e.LocalAddr() {
		t.Errorf("Reflexive = %v, %v; want [%v]", addrs, err, e.LocalAddr())
	}
	st, es := c.Stats(), e.Stats()
	if st.Responses < 2 || st.Unmatched != 0 || st.Malformed != 0 || es.RxSTUN < 2 || es.TxRaw < 2 {
		t.Errorf("client %+v\nengine rx_stun %d tx_raw %d", st, es.RxSTUN, es.TxRaw)
	}
}

// fakeServer answers every Binding request read on a loopback socket with
// what answer builds (nil: no answer).
type fakeServer struct {
	pc   net.PacketConn
	addr netip.AddrPort
	reqs atomic.Int64
}

func newFakeServer(t *testing.T, answer func(req *stun.Message, from netip.AddrPort) *stun.Message) *fakeServer {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Skipf("cannot open loopback UDP: %v", err)
	}
	s := &fakeServer{pc: pc, addr: pc.LocalAddr().(*net.UDPAddr).AddrPort()}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			s.reqs.Add(1)
			var req stun.Message
			if err := stun.Decode(buf[:n], &req); err != nil {
				continue
			}
			if resp := answer(&req, from.(*net.UDPAddr).AddrPort()); resp != nil {
				_, _ = pc.WriteTo(resp.Raw, from)
			}
		}
	}()
	t.Cleanup(func() {
		pc.Close()
		wg.Wait()
	})
	return s
}

func TestServerError(t *testing.T) {
	srv := newFakeServer(t, func(req *stun.Message, _ netip.AddrPort) *stun.Message {
		return stun.MustBuild(req, stun.NewType(stun.MethodBinding, stun.ClassErrorResponse),
			stun.ErrorCodeAttribute{Code: stun.CodeBadRequest, Reason: []byte("Bad Request")}, stun.Fingerprint)
	})
	_, c := engineClient(t, Config{RTO: 50 * time.Millisecond})
	_, err := c.Bind(context.Background(), srv.addr.String())
	var se *ServerError
	if !errors.As(err, &se) || se.Code != 400 || se.Reason != "Bad Request" || se.Server != srv.addr.String() {
		t.Fatalf("Bind = %v, want a *ServerError 400 Bad Request from %v", err, srv.addr)
	}
	if st := c.Stats(); st.ErrorResponses != 1 {
		t.Errorf("ErrorResponses = %d, want 1", st.ErrorResponses)
	}
}

// TestRetransmitTimeout: a server that never answers gets Rc
// transmissions, and the transaction fails with ErrTimeout no earlier
// than RTO*(1+2+...+2^(Rc-2)) + Rm*RTO.
func TestRetransmitTimeout(t *testing.T) {
	srv := newFakeServer(t, func(*stun.Message, netip.AddrPort) *stun.Message { return nil })
	_, c := engineClient(t, Config{RTO: 2 * time.Millisecond, Rc: 4, Rm: 3})
	start := time.Now()
	_, err := c.Bind(context.Background(), srv.addr.String())
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("Bind = %v, want ErrTimeout", err)
	}
	if min := (1 + 2 + 4 + 3) * 2 * time.Millisecond; time.Since(start) < min {
		t.Errorf("timed out after %v, before the schedule's %v", time.Since(start), min)
	}
	st := c.Stats()
	if st.Transmissions != 4 || st.Retransmits != 3 || st.Timeouts != 1 {
		t.Errorf("transmissions %d, retransmits %d, timeouts %d; want 4, 3, 1", st.Transmissions, st.Retransmits, st.Timeouts)
	}
	deadline := time.Now().Add(5 * time.Second)
	for srv.reqs.Load() < 4 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := srv.reqs.Load(); n != 4 {
		t.Errorf("server read %d requests, want 4", n)
	}
}

// TestRetransmitRecovers: the first transmissions are lost (the server
// ignores them); a retransmission gets the answer.
func TestRetransmitRecovers(t *testing.T) {
	var seen atomic.Int64
	srv := newFakeServer(t, func(req *stun.Message, from netip.AddrPort) *stun.Message {
		if seen.Add(1) < 3 {
			return nil
		}
		return stun.MustBuild(req, stun.BindingSuccess, &stun.XORMappedAddress{IP: from.Addr().AsSlice(), Port: int(from.Port())})
	})
	e, c := engineClient(t, Config{RTO: 5 * time.Millisecond})
	got, err := c.Bind(context.Background(), srv.addr.String())
	if err != nil || got != e.LocalAddr() {
		t.Fatalf("Bind = %v, %v; want %v", got, err, e.LocalAddr())
	}
	if st := c.Stats(); st.Retransmits != 2 {
		t.Errorf("Retransmits = %d, want 2", st.Retransmits)
	}
}

// TestUnmatchedAndGarbage: responses for unknown transactions, from the
// wrong address, and garbage are dropped and counted; the outstanding
// transaction still completes with the right response.
func TestUnmatchedAndGarbage(t *testing.T) {
	var sent [][]byte
	var mu sync.Mutex
	c, err := New(func(_ netip.AddrPort, b []byte) error {
		mu.Lock()
		sent = append(sent, append([]byte(nil), b...))
		mu.Unlock()
		return nil
	}, Config{RTO: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	server := netip.MustParseAddrPort("192.0.2.1:3478")
	mapped := netip.MustParseAddrPort("198.51.100.7:40000")
	type res struct {
		a   netip.AddrPort
		err error
	}
	ch := make(chan res, 1)
	go func() {
		a, err := c.Bind(context.Background(), server.String())
		ch <- res{a, err}
	}()
	var req stun.Message
	for {
		mu.Lock()
		n := len(sent)
		mu.Unlock()
		if n > 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	mu.Lock()
	if err := stun.Decode(sent[0], &req); err != nil {
		t.Fatal(err)
	}
	mu.Unlock()
	ok := stun.MustBuild(&req, stun.BindingSuccess, &stun.XORMappedAddress{IP: mapped.Addr().AsSlice(), Port: int(mapped.Port())}, stun.Fingerprint)
	other := stun.MustBuild(stun.TransactionID, stun.BindingSuccess, &stun.XORMappedAddress{IP: mapped.Addr().AsSlice(), Port: 1})
	badFP := append([]byte(nil), ok.Raw...)
	badFP[len(badFP)-1] ^= 1
	indication := stun.MustBuild(stun.TransactionID, stun.NewType(stun.MethodBinding, stun.ClassIndication))
	c.Handle(server, other.Raw)                                 // unknown transaction
	c.Handle(netip.MustParseAddrPort("192.0.2.9:3478"), ok.Raw) // right id, wrong source
	c.Handle(server, []byte("not stun at all"))                 // garbage
	c.Handle(server, badFP)                                     // fingerprint mismatch
	c.Handle(server, indication.Raw)                            // not a response
	c.Handle(server, ok.Raw)
	r := <-ch
	if r.err != nil || r.a != mapped {
		t.Fatalf("Bind = %v, %v; want %v", r.a, r.err, mapped)
	}
	c.Handle(server, ok.Raw) // a duplicate after completion: unmatched
	deadline := time.Now().Add(5 * time.Second)
	for c.Stats().Unmatched < 3 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	st := c.Stats()
	if st.Unmatched != 3 || st.Malformed != 2 || st.Unexpected != 1 || st.Responses != 1 {
		t.Errorf("unmatched %d, malformed %d, unexpected %d, responses %d; want 3, 2, 1, 1",
			st.Unmatched, st.Malformed, st.Unexpected, st.Responses)
	}
}

// TestPendingBound: the transaction table is bounded.
func TestPendingBound(t *testing.T) {
	c, err := New(func(netip.AddrPort, []byte) error { return nil }, Config{MaxPending: 2, RTO: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.Bind(ctx, "192.0.2.1:3478")
		}()
	}
	deadline := time.Now().Add(5 * time.Second)
	for c.Stats().Requests < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if _, err := c.Bind(ctx, "192.0.2.1:3478"); !errors.Is(err, ErrTooManyTransactions) {
		t.Errorf("third Bind = %v, want ErrTooManyTransactions", err)
	}
	cancel()
	wg.Wait()
	c.Close()
	if _, err := c.Bind(context.Background(), "192.0.2.1:3478"); !errors.Is(err, ErrClosed) {
		t.Errorf("Bind after Close = %v, want ErrClosed", err)
	}
}

// TestKeepAliveChange: keep-alives re-bind each interval, and a change of
// the mapped address (a NAT rebinding) is reported once.
func TestKeepAliveChange(t *testing.T) {
	var port atomic.Int32
	port.Store(40000)
	srv := newFakeServer(t, func(req *stun.Message, _ netip.AddrPort) *stun.Message {
		return stun.MustBuild(req, stun.BindingSuccess, &stun.XORMappedAddress{IP: net.IPv4(203, 0, 113, 5), Port: int(port.Load())})
	})
	changes := make(chan [2]netip.AddrPort, 4)
	_, c := engineClient(t, Config{Servers: []string{srv.addr.String()}, KeepAlive: 20 * time.Millisecond, RTO: 50 * time.Millisecond,
		OnChange: func(_ string, old, new netip.AddrPort) { changes <- [2]netip.AddrPort{old, new} }})
	c.Start()
	deadline := time.Now().Add(10 * time.Second)
	for srv.reqs.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := srv.reqs.Load(); n < 3 {
		t.Fatalf("only %d keep-alive requests", n)
	}
	port.Store(40001)
	select {
	case ch := <-changes:
		want := [2]netip.AddrPort{netip.MustParseAddrPort("203.0.113.5:40000"), netip.MustParseAddrPort("203.0.113.5:40001")}
		if ch != want {
			t.Errorf("change %v, want %v", ch, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no mapping change reported")
	}
	if ms := c.Mappings(); len(ms) != 1 || ms[0].Addr.Port() != 40001 {
		t.Errorf("Mappings = %+v", ms)
	}
	if st := c.Stats(); st.MappingChanges != 1 {
		t.Errorf("MappingChanges = %d, want 1", st.MappingChanges)
	}
}

func TestConfig(t *testing.T) {
	send := func(netip.AddrPort, []byte) error { return nil }
	for _, cfg := range []Config{{RTO: -1}, {Servers: []string{"no-port"}}, {Network: "tcp"}} {
		if _, err := New(send, cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("New(%+v) = %v, want ErrConfig", cfg, err)
		}
	}
	if _, err := New(nil, Config{}); !errors.Is(err, ErrConfig) {
		t.Errorf("nil send: %v", err)
	}
	c, err := New(send, Config{Network: "ip4"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Bind(context.Background(), "[2001:db8::1]:3478"); !errors.Is(err, ErrResolve) {
		t.Errorf("IPv6 server on ip4: %v, want ErrResolve", err)
	}
	if _, err := c.Reflexive(context.Background()); !errors.Is(err, ErrNoServers) {
		t.Errorf("Reflexive without servers: %v, want ErrNoServers", err)
	}
}

// TestAllocsHandle proves Handle, which runs on the engine's receive
// goroutine, allocates nothing (the slot is handed back by hand here: the
// processing goroutine, which decodes with pion/stun, is not running).
func TestAllocsHandle(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	c := &Client{free: make(chan *slot, 1), in: make(chan *slot, 1)}
	c.free <- new(slot)
	msg := stun.MustBuild(stun.TransactionID, stun.BindingSuccess).Raw
	from := netip.MustParseAddrPort("192.0.2.1:3478")
	if n := testing.AllocsPerRun(1000, func() {
		c.Handle(from, msg)
		c.free <- <-c.in
	}); n != 0 {
		t.Errorf("Handle: %v allocs", n)
	}
	c.Handle(from, msg) // the one slot is now busy: the next is dropped
	c.Handle(from, msg)
	if st := c.Stats(); st.QueueDrops != 1 {
		t.Errorf("QueueDrops = %d, want 1", st.QueueDrops)
	}
}

// TestKeepAliveIndependent: a silent server, whose transactions take
// (2^7-1+16)*RTO to time out, does not hold back the keep-alives to a
// live one.
func TestKeepAliveIndependent(t *testing.T) {
	silent := newFakeServer(t, func(*stun.Message, netip.AddrPort) *stun.Message { return nil })
	live := newFakeServer(t, func(req *stun.Message, from netip.AddrPort) *stun.Message {
		return stun.MustBuild(req, stun.BindingSuccess, &stun.XORMappedAddress{IP: from.Addr().AsSlice(), Port: int(from.Port())})
	})
	_, c := engineClient(t, Config{Servers: []string{silent.addr.String(), live.addr.String()},
		KeepAlive: 20 * time.Millisecond, RTO: time.Second})
	c.Start()
	deadline := time.Now().Add(10 * time.Second)
	for live.reqs.Load() < 5 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := live.reqs.Load(); n < 5 {
		t.Fatalf("the live server got %d keep-alives while the silent one was timing out, want 5", n)
	}
	if ms := c.Mappings(); len(ms) != 1 || ms[0].Server != live.addr.String() {
		t.Errorf("Mappings = %+v, want the live server's only", ms)
	}
}
