package turnconn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/sttgo/stt/engine/conn"
	"github.com/sttgo/stt/internal/stuntest"
)

var testUsers = map[string]string{"alice": "alice-secret", "bob": "bob-secret"}

func startTURN(t testing.TB, cfg stuntest.TURNConfig) *stuntest.TURNServer {
	t.Helper()
	if cfg.Users == nil {
		cfg.Users = testUsers
	}
	s, err := stuntest.ListenTURN("127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func listenUDP(t testing.TB, cfg conn.Config) *conn.UDPConn {
	t.Helper()
	c, err := conn.ListenUDP("udp4", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// dgram is a datagram a reader saw.
type dgram struct {
	from netip.AddrPort
	data []byte
}

// reader runs ReadBatch on b until it fails and sends every datagram
// (runs split) to the returned channel; the channel closes at the end.
func reader(b conn.Batch) <-chan dgram {
	ch := make(chan dgram, 4096)
	go func() {
		defer close(ch)
		msgs := make([]conn.Message, 16)
		for i := range msgs {
			msgs[i].Buf = make([]byte, conn.MaxGROBytes)
		}
		for {
			n, err := b.ReadBatch(msgs)
			if err != nil {
				return
			}
			for _, m := range msgs[:n] {
				seg := m.SegSize
				if seg == 0 {
					seg = max(m.N, 1)
				}
				for off := 0; off < m.N; off += seg {
					ch <- dgram{m.Addr, append([]byte(nil), m.Buf[off:min(off+seg, m.N)]...)}
				}
			}
		}
	}()
	return ch
}

func recv(t testing.TB, ch <-chan dgram) dgram {
	t.Helper()
	select {
	case d, ok := <-ch:
		if !ok {
			t.Fatal("reader ended")
		}
		return d
	case <-time.After(10 * time.Second):
		t.Fatal("no datagram within 10 s")
	}
	panic("unreachable")
}

// client is a Mux with a running reader.
type client struct {
	m  *Mux
	rx <-chan dgram
}

func newClient(t testing.TB, srv *stuntest.TURNServer, user string, cfg Config, ucfg conn.Config) *client {
	t.Helper()
	if cfg.Servers == nil {
		cfg.Servers = []Server{{Addr: srv.Addr().String(), Username: user, Password: testUsers[user]}}
	}
	m, err := New(listenUDP(t, ucfg), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return &client{m: m, rx: reader(m)}
}

func allocate(t testing.TB, m *Mux) netip.AddrPort {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	relayed, err := m.Allocate(ctx)
	if err != nil || len(relayed) != 1 {
		t.Fatalf("Allocate = %v, %v", relayed, err)
	}
	return relayed[0]
}

func send(t testing.TB, b conn.Batch, to netip.AddrPort, data []byte, seg int) {
	t.Helper()
	if n, err := b.WriteBatch([]conn.Message{{Buf: data, N: len(data), Addr: to, SegSize: seg}}); n != 1 || err != nil {
		t.Fatalf("WriteBatch to %v = %d, %v", to, n, err)
	}
}

// waitFor polls cond for up to 10 s (not a timing assertion: a generous
// bound so a broken test fails instead of hanging).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRelayRoundTrip: A allocates and permits B's IP; B (a plain UDP
// socket) sends to A's relayed address; A reads it from a synthetic
// address and answers; B receives the answer from the relayed address.
// The first datagrams travel as Data/Send indications, then ChannelData
// once the channel is bound; many datagrams of both ways arrive intact;
// a GSO-segmented write arrives at B as separate datagrams.
func TestRelayRoundTrip(t *testing.T) {
	srv := startTURN(t, stuntest.TURNConfig{})
	a := newClient(t, srv, "alice", Config{}, conn.Config{})
	relayed := allocate(t, a.m)
	if got := a.m.Relayed(); len(got) != 1 || got[0] != relayed {
		t.Fatalf("Relayed = %v, want [%v]", got, relayed)
	}
	b := listenUDP(t, conn.Config{DisableGRO: true})
	brx := reader(b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.m.Permit(ctx, b.LocalAddr().Addr()); err != nil {
		t.Fatal(err)
	}

	send(t, b, relayed, []byte("hello A"), 0)
	d := recv(t, a.rx)
	if string(d.data) != "hello A" || !a.m.IsRelayed(d.from) {
		t.Fatalf("A got %q from %v", d.data, d.from)
	}
	synth := d.from
	if r, p, ok := a.m.Route(synth); !ok || r != relayed || p != b.LocalAddr() {
		t.Fatalf("Route = %v, %v, %v; want %v, %v", r, p, ok, relayed, b.LocalAddr())
	}
	if via, err := a.m.Via(relayed, b.LocalAddr()); err != nil || via != synth {
		t.Fatalf("Via = %v, %v; want %v", via, err, synth)
	}
	if s := a.m.Stats(); s.DataIndIn != 1 {
		t.Fatalf("first datagram: DataIndIn = %d, want 1 (%+v)", s.DataIndIn, s)
	}
	// Answer at once: the channel is not bound yet in the common case,
	// so this goes as a Send indication unless the bind was quicker.
	send(t, a.m, synth, []byte("hello B"), 0)
	d = recv(t, brx)
	if string(d.data) != "hello B" || d.from != relayed {
		t.Fatalf("B got %q from %v, want from %v", d.data, d.from, relayed)
	}

	waitFor(t, "the channel binding", func() bool { return a.m.Stats().Binds >= 1 })
	before := a.m.Stats()
	if before.SendIndOut+before.ChannelDataOut != 1 {
		t.Fatalf("one datagram sent, counters %+v", before)
	}

	// Many datagrams, both ways, in rounds (pion's relay socket has a
	// small buffer), checked as sets.
	const perRound, size = 16, 1200
	rounds := 20
	if raceEnabled {
		rounds = 8 // the race detector slows pion's server down
	}
	for r := range rounds {
		want := map[string]bool{}
		var outA, outB []conn.Message
		for i := range perRound {
			pa := []byte(fmt.Sprintf("A->B %03d %03d ", r, i))
			pa = append(pa, bytes.Repeat([]byte{byte(i)}, size-len(pa))...)
			pb := []byte(fmt.Sprintf("B->A %03d %03d ", r, i))
			pb = append(pb, bytes.Repeat([]byte{byte(r)}, size-len(pb))...)
			want[string(pa)], want[string(pb)] = true, true
			outA = append(outA, conn.Message{Buf: pa, N: len(pa), Addr: synth})
			outB = append(outB, conn.Message{Buf: pb, N: len(pb), Addr: relayed})
		}
		if n, err := a.m.WriteBatch(outA); n != perRound || err != nil {
			t.Fatalf("A WriteBatch = %d, %v", n, err)
		}
		if n, err := b.WriteBatch(outB); n != perRound || err != nil {
			t.Fatalf("B WriteBatch = %d, %v", n, err)
		}
		for range perRound {
			d := recv(t, brx)
			if d.from != relayed || !want[string(d.data)] {
				t.Fatalf("B got an unexpected datagram from %v: %.20q", d.from, d.data)
			}
			delete(want, string(d.data))
			d = recv(t, a.rx)
			if d.from != synth || !want[string(d.data)] {
				t.Fatalf("A got an unexpected datagram from %v: %.20q", d.from, d.data)
			}
			delete(want, string(d.data))
		}
	}
	after := a.m.Stats()
	if after.ChannelDataOut-before.ChannelDataOut != uint64(rounds*perRound) || after.SendIndOut != before.SendIndOut {
		t.Fatalf("after binding, writes must be ChannelData: before %+v after %+v", before, after)
	}
	if after.ChannelDataIn < uint64(rounds*perRound) || after.DataIndIn > 2 {
		t.Fatalf("after binding, reads must be ChannelData: %+v", after)
	}

	// A GSO-segmented write: 8 segments of 1000 bytes (the last 500).
	run := make([]byte, 7*1000+500)
	for i := range run {
		run[i] = byte(i / 1000)
	}
	send(t, a.m, synth, run, 1000)
	for i := range 8 {
		d := recv(t, brx)
		wantLen := 1000
		if i == 7 {
			wantLen = 500
		}
		if len(d.data) != wantLen || d.data[0] != byte(i) || d.from != relayed {
			t.Fatalf("segment %d: %d bytes starting %d from %v", i, len(d.data), d.data[0], d.from)
		}
	}
}

// TestRelayTwoMuxes: both ends behind TURN allocations of one server,
// each reaching the other's relayed address through Via.
func TestRelayTwoMuxes(t *testing.T) {
	srv := startTURN(t, stuntest.TURNConfig{})
	a := newClient(t, srv, "alice", Config{}, conn.Config{})
	b := newClient(t, srv, "bob", Config{}, conn.Config{})
	ra, rb := allocate(t, a.m), allocate(t, b.m)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.m.Permit(ctx, rb.Addr()); err != nil {
		t.Fatal(err)
	}
	if err := b.m.Permit(ctx, ra.Addr()); err != nil {
		t.Fatal(err)
	}
	sa, err := a.m.Via(ra, rb)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := b.m.Via(rb, ra)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "both bindings", func() bool { return a.m.Stats().Binds >= 1 && b.m.Stats().Binds >= 1 })
	for i := range 50 {
		msg := fmt.Appendf(nil, "ping %d", i)
		send(t, a.m, sa, msg, 0)
		if d := recv(t, b.rx); d.from != sb || !bytes.Equal(d.data, msg) {
			t.Fatalf("B got %q from %v, want %q from %v", d.data, d.from, msg, sb)
		}
		send(t, b.m, sb, msg, 0)
		if d := recv(t, a.rx); d.from != sa || !bytes.Equal(d.data, msg) {
			t.Fatalf("A got %q from %v", d.data, d.from)
		}
	}
	if s := a.m.Stats(); s.ChannelDataOut != 50 || s.ChannelDataIn != 50 {
		t.Fatalf("A: %+v", s)
	}
}

// TestBindingPassesUp: a STUN Binding request to the TURN server, sent
// through the Mux, gets its answer back through ReadBatch unchanged (the
// node's STUN client shares the server).
func TestBindingPassesUp(t *testing.T) {
	srv := startTURN(t, stuntest.TURNConfig{})
	a := newClient(t, srv, "alice", Config{}, conn.Config{})
	req := []byte{0x00, 0x01, 0, 0, 0x21, 0x12, 0xA4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	send(t, a.m, srv.Addr(), req, 0)
	d := recv(t, a.rx)
	if d.from != srv.Addr() || len(d.data) < 20 || d.data[0] != 0x01 || d.data[1] != 0x01 || !bytes.Equal(d.data[8:20], req[8:20]) {
		t.Fatalf("got %x from %v, want a Binding success response", d.data, d.from)
	}
}

// TestErrors: typed errors for a wrong password (pion's server answers
// 400), a refused quota (486) and a server that does not answer.
func TestErrors(t *testing.T) {
	srv := startTURN(t, stuntest.TURNConfig{Quota: func(u string) bool { return u != "bob" }})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	bad := newClient(t, srv, "alice", Config{Servers: []Server{{Addr: srv.Addr().String(), Username: "alice", Password: "wrong"}}}, conn.Config{})
	_, err := bad.m.Allocate(ctx)
	var se *ServerError
	if !errors.As(err, &se) || se.Code != 400 || se.Method != "Allocate" || se.Server != srv.Addr().String() || !errors.Is(err, ErrBadRequest) {
		t.Fatalf("wrong password: %v", err)
	}

	quota := newClient(t, srv, "bob", Config{}, conn.Config{})
	_, err = quota.m.Allocate(ctx)
	if !errors.As(err, &se) || se.Code != 486 || !errors.Is(err, ErrQuota) {
		t.Fatalf("quota: %v", err)
	}

	gone := startTURN(t, stuntest.TURNConfig{})
	gone.SetDrop(true)
	silent := newClient(t, gone, "alice", Config{}, conn.Config{})
	short, cancelShort := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancelShort()
	_, err = silent.m.Allocate(short)
	var te *TimeoutError
	if !errors.As(err, &te) || te.Server != gone.Addr().String() || !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("silent server, context deadline: %v", err)
	}
	// Without a deadline, the retransmissions run out (RTO 10 ms: 1.3 s).
	silent2 := newClient(t, gone, "alice", Config{RTO: 10 * time.Millisecond}, conn.Config{})
	_, err = silent2.m.Allocate(ctx)
	if !errors.As(err, &te) || !errors.Is(err, ErrTimeout) || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("silent server, retransmissions: %v", err)
	}
	if _, err := silent2.m.Via(netip.MustParseAddrPort("127.0.0.1:1"), netip.MustParseAddrPort("127.0.0.1:2")); !errors.Is(err, ErrNoAllocation) {
		t.Fatalf("Via without allocation: %v", err)
	}
	if err := silent2.m.Permit(ctx, netip.MustParseAddr("127.0.0.1")); !errors.Is(err, ErrNoAllocation) {
		t.Fatalf("Permit without allocation: %v", err)
	}
}

// TestAllocationLost: the server restarts (its allocations are gone and
// it ignores refreshes for them); the refresh goes unanswered until the
// allocation expires: OnLost is called, Relayed drops it, its synthetic
// address stops, and Allocate makes a new one that relays again.
func TestAllocationLost(t *testing.T) {
	srv := startTURN(t, stuntest.TURNConfig{})
	var mu sync.Mutex
	var lost []netip.AddrPort
	var lostErr error
	a := newClient(t, srv, "alice", Config{
		Lifetime: 2 * time.Second,
		RTO:      20 * time.Millisecond,
		OnLost: func(r netip.AddrPort, err error) {
			mu.Lock()
			lost, lostErr = append(lost, r), err
			mu.Unlock()
		},
	}, conn.Config{})
	relayed := allocate(t, a.m)
	b := listenUDP(t, conn.Config{DisableGRO: true})
	brx := reader(b)
	synth, err := a.m.Via(relayed, b.LocalAddr())
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the channel binding", func() bool { return a.m.Stats().Binds >= 1 })
	send(t, a.m, synth, []byte("before"), 0)
	if d := recv(t, brx); string(d.data) != "before" {
		t.Fatalf("B got %q", d.data)
	}
	waitFor(t, "a refresh", func() bool { return a.m.Stats().Refreshes >= 1 })

	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "OnLost", func() bool { mu.Lock(); defer mu.Unlock(); return len(lost) == 1 })
	mu.Lock()
	if lost[0] != relayed || !errors.Is(lostErr, ErrTimeout) {
		t.Fatalf("OnLost(%v, %v), want %v and a timeout", lost[0], lostErr, relayed)
	}
	mu.Unlock()
	if r := a.m.Relayed(); len(r) != 0 {
		t.Fatalf("Relayed after loss = %v", r)
	}
	if n, err := a.m.WriteBatch([]conn.Message{{Buf: []byte("x"), N: 1, Addr: synth}}); n != 0 || !errors.Is(err, ErrNoRoute) {
		t.Fatalf("WriteBatch to a lost address = %d, %v", n, err)
	}
	if _, _, ok := a.m.Route(synth); ok {
		t.Fatal("Route of a lost address")
	}
	if s := a.m.Stats(); s.Lost != 1 || s.Peers != 0 {
		t.Fatalf("stats after loss %+v", s)
	}

	relayed2 := allocate(t, a.m)
	synth2, err := a.m.Via(relayed2, b.LocalAddr())
	if err != nil || synth2 == synth {
		t.Fatalf("Via after re-allocation = %v, %v", synth2, err)
	}
	waitFor(t, "the new channel binding", func() bool { return a.m.Stats().Binds >= 2 })
	send(t, a.m, synth2, []byte("after"), 0)
	if d := recv(t, brx); string(d.data) != "after" || d.from != relayed2 {
		t.Fatalf("B got %q from %v", d.data, d.from)
	}
	if srv.Allocations() != 2 {
		t.Fatalf("server saw %d allocations, want 2", srv.Allocations())
	}
}

// TestCloseReleases: Close deletes the allocation on the server (a
// second Mux on the same port could allocate again at once) and ends
// ReadBatch with net.ErrClosed; SetReadDeadline in the past interrupts a
// blocked ReadBatch with os.ErrDeadlineExceeded.
func TestCloseAndDeadline(t *testing.T) {
	srv := startTURN(t, stuntest.TURNConfig{})
	udp := listenUDP(t, conn.Config{})
	m, err := New(udp, Config{Servers: []Server{{Addr: srv.Addr().String(), Username: "alice", Password: testUsers["alice"]}}})
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := m.ReadBatch(newMsgs(4, 2048))
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	if err := m.SetReadDeadline(time.Unix(1, 0)); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("ReadBatch after a past deadline: %v", err)
	}
	_ = m.SetReadDeadline(time.Time{})
	rx := reader(m)
	allocate(t, m)
	m.Close()
	for range rx {
	}
	if _, err := m.ReadBatch(newMsgs(1, 64)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("ReadBatch after Close: %v", err)
	}
	if _, err := m.Allocate(context.Background()); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Allocate after Close: %v", err)
	}
}

// TestSendIndications: a peer without a channel (the allocation's 4096
// are used up) is reached with Send indications and heard through Data
// indications, its permission installed by Via alone.
func TestSendIndications(t *testing.T) {
	srv := startTURN(t, stuntest.TURNConfig{})
	a := newClient(t, srv, "alice", Config{}, conn.Config{})
	relayed := allocate(t, a.m)
	al := a.m.liveAllocation(relayed)
	al.mu.Lock()
	al.nextChan = numChannels // no channel left
	al.mu.Unlock()
	b := listenUDP(t, conn.Config{DisableGRO: true})
	brx := reader(b)
	synth, err := a.m.Via(relayed, b.LocalAddr())
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the permission", func() bool { return a.m.Stats().Permissions >= 1 })
	for i := range 20 {
		msg := fmt.Appendf(nil, "indication %d", i)
		send(t, a.m, synth, msg, 0)
		if d := recv(t, brx); d.from != relayed || !bytes.Equal(d.data, msg) {
			t.Fatalf("B got %q from %v", d.data, d.from)
		}
		send(t, b, relayed, msg, 0)
		if d := recv(t, a.rx); d.from != synth || !bytes.Equal(d.data, msg) {
			t.Fatalf("A got %q from %v", d.data, d.from)
		}
	}
	// A segmented write becomes one Send indication per segment.
	send(t, a.m, synth, bytes.Repeat([]byte("s"), 2500), 1000)
	for _, want := range []int{1000, 1000, 500} {
		if d := recv(t, brx); len(d.data) != want {
			t.Fatalf("segment of %d bytes, want %d", len(d.data), want)
		}
	}
	if s := a.m.Stats(); s.SendIndOut != 23 || s.DataIndIn != 20 || s.ChannelDataOut != 0 || s.Binds != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// TestRefreshes: with the schedule shortened, the allocation, its
// permissions and its channel binding are refreshed again and again and
// pion's server accepts every refresh; the relay keeps working.
func TestRefreshes(t *testing.T) {
	oldPerm, oldBind, oldRetry := permRefresh, bindRefresh, bindRetry
	t.Cleanup(func() { permRefresh, bindRefresh, bindRetry = oldPerm, oldBind, oldRetry })
	permRefresh, bindRefresh, bindRetry = 150*time.Millisecond, 100*time.Millisecond, 50*time.Millisecond

	srv := startTURN(t, stuntest.TURNConfig{})
	a := newClient(t, srv, "alice", Config{Lifetime: 2 * time.Second}, conn.Config{})
	relayed := allocate(t, a.m)
	b := listenUDP(t, conn.Config{DisableGRO: true})
	brx := reader(b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.m.Permit(ctx, netip.MustParseAddr("192.0.2.99"), b.LocalAddr().Addr()); err != nil {
		t.Fatal(err)
	}
	synth, err := a.m.Via(relayed, b.LocalAddr())
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "refreshes", func() bool {
		s := a.m.Stats()
		return s.Refreshes >= 2 && s.Permissions >= 4 && s.Binds >= 4
	})
	if s := a.m.Stats(); s.RequestFailures != 0 || s.Lost != 0 {
		t.Fatalf("stats %+v", s)
	}
	send(t, a.m, synth, []byte("still here"), 0)
	if d := recv(t, brx); string(d.data) != "still here" || d.from != relayed {
		t.Fatalf("B got %q from %v", d.data, d.from)
	}
}
