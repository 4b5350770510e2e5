package stt

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/sttgo/stt/engine/conn"
	"github.com/sttgo/stt/engine/conn/conntest"
	"github.com/sttgo/stt/engine/conn/turnconn"
	"github.com/sttgo/stt/internal/session"
	"github.com/sttgo/stt/internal/stuntest"
)

// udpProxy is a relay stand-in on the in-memory network: what from sends
// to front is forwarded to to from back, and what to sends to back is
// forwarded to from from front (a TURN server's two legs, without TURN).
// It stops when the test ends.
func udpProxy(t *testing.T, tn *testNet, from, to netip.AddrPort) (front, back netip.AddrPort) {
	t.Helper()
	f, b := tn.endpoint(), tn.endpoint()
	fwd := func(in, out *conntest.Endpoint, want, dst netip.AddrPort) {
		msgs := make([]conn.Message, 16)
		for i := range msgs {
			msgs[i].Buf = make([]byte, 2048)
		}
		for {
			n, err := in.ReadBatch(msgs)
			if err != nil {
				return
			}
			for _, m := range msgs[:n] {
				if m.Addr != want {
					continue
				}
				_, _ = out.WriteBatch([]conn.Message{{Buf: m.Buf, N: m.N, Addr: dst}})
			}
		}
	}
	go fwd(f, b, from, to)
	go fwd(b, f, to, from)
	return f.LocalAddr(), b.LocalAddr()
}

// TestDialViaRelayedCandidate: a offers a relayed candidate (here a plain
// UDP proxy in front of it, standing in for its TURN relay). With the
// direct path between a and b cut, b dials the relayed candidate after
// RelayDelay and the session runs through it: b's Relayed reports it,
// data flows. With the direct path open, the direct session wins and the
// relayed candidate is never dialed.
func TestDialViaRelayedCandidate(t *testing.T) {
	for _, cut := range []bool{true, false} {
		tn := newTestNet(t, 70)
		r, _ := tn.node(func(c *Config) { c.Rendezvous = true })
		a, _ := tn.node(nil)
		b, _ := tn.node(nil)
		sAR, _ := pair(t, a, r)
		sBR, _ := pair(t, b, r)
		b.UseIntroducer(sBR)
		if cut {
			for _, l := range [][2]netip.AddrPort{{a.Addr(), b.Addr()}, {b.Addr(), a.Addr()}} {
				if err := tn.net.SetLink(l[0], l[1], conntest.Impairment{Loss: 1}); err != nil {
					t.Fatal(err)
				}
			}
		}
		front, back := udpProxy(t, tn, b.Addr(), a.Addr())
		acc := acceptOne(t, b)
		start := time.Now()
		s, err := a.sn.DialVia(ctxT(t, 10*time.Second), [32]byte(b.NodeID()), sAR.h(), []session.Candidate{{Addr: front, Relayed: true}})
		if err != nil {
			t.Fatalf("cut %v: DialVia: %v", cut, err)
		}
		took := time.Since(start)
		sa, sb := (*Session)(s), <-acc
		if sb == nil {
			t.FailNow()
		}
		bs := b.Stats().Sessions
		if cut {
			if sb.RemoteAddr() != front || sa.RemoteAddr() != back || !sb.Relayed() {
				t.Fatalf("cut: b runs to %v (relayed %v), a to %v; want the proxy %v / %v", sb.RemoteAddr(), sb.Relayed(), sa.RemoteAddr(), front, back)
			}
			if took < RelayDelay || bs["intro_relay_dials"] != 1 || bs["intro_relay_wins"] != 1 {
				t.Fatalf("cut: DialVia took %v (relayed candidates wait %v), b's counters %v", took, RelayDelay, introCounters(bs))
			}
		} else {
			if sb.RemoteAddr() != a.Addr() || sa.RemoteAddr() != b.Addr() || sa.Relayed() || sb.Relayed() {
				t.Fatalf("open: b runs to %v, a to %v (relayed %v/%v); want direct", sb.RemoteAddr(), sa.RemoteAddr(), sa.Relayed(), sb.Relayed())
			}
			if bs["intro_relay_dials"] != 0 {
				t.Fatalf("open: b dialed the relayed candidate although the direct path worked: %v", introCounters(bs))
			}
		}
		sendRetry(t, sa, 1, []byte("a to b"))
		if p, _ := recv(t, sb); string(p) != "a to b" {
			t.Fatalf("b got %q", p)
		}
		sendRetry(t, sb, 2, []byte("b to a"))
		if p, _ := recv(t, sa); string(p) != "b to a" {
			t.Fatalf("a got %q", p)
		}
		t.Logf("cut %v: DialVia %v, b runs to %v (relayed %v)", cut, took, sb.RemoteAddr(), sb.Relayed())
		if !cut {
			continue
		}
		// While the direct path is cut, the probes of the direct upgrade
		// fail and the session stays on the relay.
		eventually(t, "b probes a's direct candidate", func() bool { return sb.Stats().Counters["path_upgrade_probes"] > 0 })
		time.Sleep(300 * time.Millisecond)
		if !sb.Relayed() || sb.RemoteAddr() != front {
			t.Fatalf("a failed probe moved the session: b runs to %v", sb.RemoteAddr())
		}
		// The direct path appears: the session leaves the relay for it
		// (direct upgrade: b probes a's direct candidate, a answers and
		// follows b's frames), and keeps its keys, ids and data.
		start = time.Now()
		for _, l := range [][2]netip.AddrPort{{a.Addr(), b.Addr()}, {b.Addr(), a.Addr()}} {
			tn.net.ClearLink(l[0], l[1])
		}
		eventually(t, "the session moves to the direct path on both sides", func() bool {
			return sb.RemoteAddr() == a.Addr() && sa.RemoteAddr() == b.Addr()
		})
		moved := time.Since(start)
		if sb.Relayed() || sa.Relayed() || sa.LocalID() != sb.RemoteID() {
			t.Fatalf("after the upgrade: relayed %v/%v, session ids %v/%v", sa.Relayed(), sb.Relayed(), sa.LocalID(), sb.RemoteID())
		}
		if st := sb.Stats().Counters; st["path_upgrades"] != 1 || st["path_upgrade_probes"] == 0 {
			t.Fatalf("b's path counters: upgrades %d, probes %d", st["path_upgrades"], st["path_upgrade_probes"])
		}
		sendRetry(t, sa, 3, []byte("direct now"))
		if p, _ := recv(t, sb); string(p) != "direct now" {
			t.Fatalf("b got %q after the upgrade", p)
		}
		sendRetry(t, sb, 4, []byte("direct too"))
		if p, _ := recv(t, sa); string(p) != "direct too" {
			t.Fatalf("a got %q after the upgrade", p)
		}
		t.Logf("upgraded to the direct path %v after the path appeared", moved)
	}
}

// TestRelayConfig: TURN needs the node's own socket; URLs parse or say
// what is wrong; a node without TURN servers says so.
func TestRelayConfig(t *testing.T) {
	tn := newTestNet(t, 71)
	_, err := Listen(Config{Seed: testSeed, Conn: tn.endpoint(), TURNServers: []TURNServer{{Addr: "192.0.2.1:3478"}}})
	if err == nil {
		t.Fatal("Listen with Conn and TURNServers succeeded")
	}
	n, _ := tn.node(nil)
	if _, err := n.RelayedAddrs(ctxT(t, time.Second)); !errors.Is(err, ErrNoTURNServers) {
		t.Fatalf("RelayedAddrs without servers: %v", err)
	}
	for in, want := range map[string]TURNServer{
		"turn://alice:s3cret@turn.example.net:3479":      {Addr: "turn.example.net:3479", Username: "alice", Password: "s3cret"},
		"turn:alice:s3cret@198.51.100.1":                 {Addr: "198.51.100.1:3478", Username: "alice", Password: "s3cret"},
		"turn://bob:pw@[2001:db8::1]:3478?transport=udp": {Addr: "[2001:db8::1]:3478", Username: "bob", Password: "pw"},
	} {
		got, err := ParseTURNURL(in)
		if err != nil || got != want {
			t.Errorf("ParseTURNURL(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"turns://a:b@h:5349", "turn://a:b@h:3478?transport=tcp", "turn://h:3478", "stun:h:3478", "turn://a:b@:3478"} {
		if _, err := ParseTURNURL(in); err == nil {
			t.Errorf("ParseTURNURL(%q) accepted", in)
		}
	}
}

// TestRelayLoopback: a node with a TURN server (pion/turn's, on loopback)
// allocates a relayed address; a plain node dials that address and the
// session runs through the relay (the owner sees the peer at a synthetic
// address and reports Relayed), data flows both ways. A wrong password
// and a quota refusal surface as the server's typed errors, and the node
// keeps working without a relay.
func TestRelayLoopback(t *testing.T) {
	srv, err := stuntest.ListenTURN("127.0.0.1:0", stuntest.TURNConfig{
		Users: map[string]string{"alice": "pw", "bob": "pw2"},
		Quota: func(user string) bool { return user != "bob" },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	turnNode := func(user, pass string) *Node {
		n, err := Listen(Config{Seed: testSeed, ListenAddr: "127.0.0.1:0",
			TURNServers: []TURNServer{{Addr: srv.Addr().String(), Username: user, Password: pass}}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.Close() })
		return n
	}
	a := turnNode("alice", "pw")
	relayed, err := a.RelayedAddrs(ctxT(t, 10*time.Second))
	if err != nil || len(relayed) != 1 || relayed[0].Addr() != srv.Addr().Addr() {
		t.Fatalf("RelayedAddrs = %v, %v", relayed, err)
	}
	b, err := Listen(Config{Seed: testSeed, ListenAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	a.relay.permit([]netip.AddrPort{b.Addr()}) // what an introduction does
	acc := acceptOne(t, a)
	sb, err := b.DialAddrPort(ctxT(t, 10*time.Second), relayed[0])
	if err != nil {
		t.Fatalf("dial the relayed address: %v", err)
	}
	sa := <-acc
	if sa == nil {
		t.FailNow()
	}
	if !sa.Relayed() || sa.RemoteAddr().Addr().As16()[0] != 0xfd || sb.RemoteAddr() != relayed[0] {
		t.Fatalf("a sees %v (relayed %v), b sees %v; want a synthetic address and the relayed one", sa.RemoteAddr(), sa.Relayed(), sb.RemoteAddr())
	}
	sendRetry(t, sb, 1, []byte("through the relay"))
	if p, _ := recv(t, sa); string(p) != "through the relay" {
		t.Fatalf("a got %q", p)
	}
	sendRetry(t, sa, 2, []byte("and back"))
	if p, _ := recv(t, sb); string(p) != "and back" {
		t.Fatalf("b got %q", p)
	}
	if st := a.Stats().TURN; st["allocations"] != 1 || st["channel_data_in"]+st["data_indications_in"] == 0 {
		t.Fatalf("TURN counters %v", st)
	}

	for _, tc := range []struct {
		user, pass string
		want       error
	}{
		{"alice", "wrong", turnconn.ErrBadRequest}, // pion answers a wrong password with 400 (coturn: 401)
		{"bob", "pw2", turnconn.ErrQuota},
	} {
		n := turnNode(tc.user, tc.pass)
		_, err := n.RelayedAddrs(ctxT(t, 10*time.Second))
		var se *turnconn.ServerError
		if !errors.Is(err, tc.want) || !errors.As(err, &se) {
			t.Fatalf("%s/%s: RelayedAddrs error %v, want %v", tc.user, tc.pass, err, tc.want)
		}
		t.Logf("%s: %v", tc.user, err)
		pair(t, n, b) // no relay, still a node
	}
}
