package stt

import (
	"bytes"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/engine/conn"
	"github.com/sttgo/stt/engine/conn/conntest"
)

// TestTamperedFrameDropped flips one byte of a DATA frame in transit: the
// receiver drops it as an authentication failure and later frames still
// arrive.
func TestTamperedFrameDropped(t *testing.T) {
	tn := newTestNet(t, 10)
	a, ha := tn.node(nil)
	b, _ := tn.node(nil)
	sa, sb := pair(t, a, b)
	var tampered atomic.Int32
	ha.setHook(func(m *conn.Message) bool {
		if typ, ok := frameType(m.Buf[:m.N]); ok && typ == codec.TypeData && tampered.Load() == 0 {
			m.Buf[m.N-1] ^= 0x01 // last byte of the (only) frame's ciphertext
			tampered.Add(1)
		}
		return true
	})
	sendRetry(t, sa, 1, []byte("tampered"))
	eventually(t, "auth drop counted", func() bool { return sb.Stats().Drops["drop_auth"] == 1 })
	ha.setHook(nil)
	sendRetry(t, sa, 1, []byte("clean"))
	if p, _ := recv(t, sb); string(p) != "clean" {
		t.Fatalf("got %q", p)
	}
	if sb.Stats().DatagramsIn != 1 {
		t.Fatal("tampered datagram delivered")
	}
}

// TestReplayDropped re-injects a captured datagram: the copy is dropped as a
// replay.
func TestReplayDropped(t *testing.T) {
	tn := newTestNet(t, 11)
	a, ha := tn.node(nil)
	b, _ := tn.node(nil)
	sa, sb := pair(t, a, b)
	var captured atomic.Pointer[[]byte]
	ha.setHook(func(m *conn.Message) bool {
		if typ, ok := frameType(m.Buf[:m.N]); ok && typ == codec.TypeData && captured.Load() == nil {
			c := append([]byte(nil), m.Buf[:m.N]...)
			captured.Store(&c)
		}
		return true
	})
	sendRetry(t, sa, 1, []byte("once"))
	if p, _ := recv(t, sb); string(p) != "once" {
		t.Fatalf("got %q", p)
	}
	c := *captured.Load()
	if _, err := ha.Batch.WriteBatch([]conn.Message{{Buf: c, N: len(c), Addr: b.Addr()}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "replay drop counted", func() bool { return sb.Stats().Drops["drop_replay"] == 1 })
	if sb.Stats().DatagramsIn != 1 {
		t.Fatal("replayed datagram delivered")
	}
}

// TestReflectedHello sends a node its own HELLO: it is dropped as a
// reflection and creates nothing.
func TestReflectedHello(t *testing.T) {
	tn := newTestNet(t, 12)
	a, ha := tn.node(func(c *Config) { c.HandshakeTimeout = 200e6 })
	var hello atomic.Pointer[[]byte]
	ha.setHook(func(m *conn.Message) bool {
		if typ, ok := frameType(m.Buf[:m.N]); ok && typ == codec.TypeHandshake && hello.Load() == nil {
			c := append([]byte(nil), m.Buf[:m.N]...)
			hello.Store(&c)
		}
		return true
	})
	// Dial an address nobody listens on, capturing the HELLO.
	nowhere := netip.MustParseAddrPort("10.9.9.9:9")
	go a.DialAddrPort(ctxT(t, 5e9), nowhere)
	eventually(t, "HELLO captured", func() bool { return hello.Load() != nil })
	h := *hello.Load()
	attacker := tn.endpoint()
	if _, err := attacker.WriteBatch([]conn.Message{{Buf: h, N: len(h), Addr: a.Addr()}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "reflection counted", func() bool { return a.Stats().Handshake["handshake_reflections"] >= 1 })
	if a.Stats().Sessions["sessions_opened"] != 0 || a.Stats().Handshake["handshake_retries_sent"] != 0 {
		t.Fatalf("reflected HELLO answered: %v", a.Stats().Handshake)
	}
}

// TestHelloFlood replays one captured HELLO from many spoofed source
// addresses while a legitimate Dial runs. A node that is not loaded answers
// a first contact with a RESPONSE (1-RTT), so the first spoofed HELLOs get
// RESPONSEs and unproven half-open entries; the flood soon loads the node
// and from then on it answers with stateless RETRYs. Throughout, no spoofed
// source receives more bytes than it sent, the half-open state stays
// bounded, no session is created, and the Dial completes.
func TestHelloFlood(t *testing.T) {
	tn := newTestNet(t, 13)
	a, _ := tn.node(nil)
	b, _ := tn.node(nil)
	c, hc := tn.node(nil)
	var hello atomic.Pointer[[]byte]
	hc.setHook(func(m *conn.Message) bool {
		if typ, ok := frameType(m.Buf[:m.N]); ok && typ == codec.TypeHandshake && hello.Load() == nil {
			cp := append([]byte(nil), m.Buf[:m.N]...)
			hello.Store(&cp)
		}
		return false // c's packets never arrive
	})
	go c.DialAddrPort(ctxT(t, 3e9), b.Addr())
	eventually(t, "HELLO captured", func() bool { return hello.Load() != nil })
	h := *hello.Load()
	const sources, rounds = 300, 10
	var in, out atomic.Uint64 // bytes to and from the spoofed sources
	var wg sync.WaitGroup
	eps := make([]*conntest.Endpoint, sources)
	for i := range eps {
		eps[i] = tn.endpoint() // a fresh (spoofed) source address
		wg.Add(1)
		go func(ep *conntest.Endpoint) {
			defer wg.Done()
			msgs := []conn.Message{{Buf: make([]byte, 2048)}}
			for {
				if _, err := ep.ReadBatch(msgs); err != nil {
					return
				}
				out.Add(uint64(msgs[0].N))
			}
		}(eps[i])
	}
	flooded := make(chan struct{})
	go func() {
		defer close(flooded)
		for r := range rounds {
			for _, ep := range eps {
				if _, err := ep.WriteBatch([]conn.Message{{Buf: h, N: len(h), Addr: b.Addr()}}); err == nil {
					in.Add(uint64(len(h)))
				}
			}
			if r == rounds/2 {
				time.Sleep(20 * time.Millisecond)
			}
		}
	}()
	sa, sb := pair(t, a, b) // during the flood
	<-flooded
	// The node may drop part of the flood at its input queue (under the
	// race detector it parses far slower): wait until it stops counting.
	last, still := uint64(0), 0
	eventually(t, "flood handled", func() bool {
		n := b.Stats().Handshake["handshake_hellos_in"]
		if n == last {
			still++
		} else {
			last, still = n, 0
		}
		return still >= 25 // 50 ms without a HELLO
	})
	if last < sources {
		t.Fatalf("the node handled only %d of %d spoofed HELLOs", last, sources*rounds)
	}
	for _, ep := range eps {
		ep.Close()
	}
	wg.Wait()
	st := b.Stats().Handshake
	t.Logf("%d B of spoofed HELLOs, %d B answered: %d first-contact RESPONSEs, %d RETRYs, %d resent",
		in.Load(), out.Load(), st["handshake_first_contact"], st["handshake_retries_sent"], st["handshake_responses_resent"])
	if out.Load() > in.Load() {
		t.Fatalf("spoofed sources received %d bytes for %d sent", out.Load(), in.Load())
	}
	if st["handshake_retries_sent"] == 0 {
		t.Fatal("the flood never loaded the node (no RETRY)")
	}
	if n := b.Stats().Sessions["sessions_opened"]; n != 1 {
		t.Fatalf("%d sessions opened (want only the Dial's)", n)
	}
	sendRetry(t, sa, 1, []byte("still works"))
	if p, _ := recv(t, sb); string(p) != "still works" {
		t.Fatalf("got %q", p)
	}
}

// TestHandshakeUnderLoss dials through 30% loss in both directions.
func TestHandshakeUnderLoss(t *testing.T) {
	seeds := []uint64{21, 22, 23, 24, 25}
	if raceEnabled {
		seeds = seeds[:2]
	}
	for _, seed := range seeds {
		tn := newTestNet(t, seed)
		if err := tn.net.SetDefault(conntest.Impairment{Loss: 0.3}); err != nil {
			t.Fatal(err)
		}
		a, _ := tn.node(nil)
		b, _ := tn.node(nil)
		t0 := time.Now()
		sa, sb := pair(t, a, b)
		t.Logf("pair %v", time.Since(t0))
		// A datagram may be lost: send until one arrives.
		got := make(chan struct{})
		go func() {
			recv(t, sb)
			close(got)
		}()
		for sent := false; !sent; {
			select {
			case <-got:
				sent = true
			default:
				_ = sa.SendDatagram(1, []byte("x"))
				eventuallyQuiet()
			}
		}
		t.Logf("t=%v", time.Since(t0))
		t.Logf("seed %d: redials %d, retransmits %d", seed, a.Stats().Sessions["redials"],
			a.Stats().Handshake["handshake_init_retransmits"])
	}
}

// TestMigrationOnlyAfterAuthentication: a forged frame from a new address
// does not move the session; an authenticated one is delivered and makes
// the session challenge the new address, but does not move it either until
// the address answers (path validation; TestNATRebindingMidTransfer shows
// the move).
func TestMigrationOnlyAfterAuthentication(t *testing.T) {
	tn := newTestNet(t, 14)
	a, ha := tn.node(nil)
	b, _ := tn.node(nil)
	sa, sb := pair(t, a, b)
	old := sb.RemoteAddr()
	if old != a.Addr() {
		t.Fatalf("remote %v, want %v", old, a.Addr())
	}
	// Capture (and withhold) one sealed DATA datagram.
	var held atomic.Pointer[[]byte]
	ha.setHook(func(m *conn.Message) bool {
		if typ, ok := frameType(m.Buf[:m.N]); ok && typ == codec.TypeData && held.Load() == nil {
			c := append([]byte(nil), m.Buf[:m.N]...)
			held.Store(&c)
			return false
		}
		return true
	})
	sendRetry(t, sa, 1, []byte("migrated"))
	eventually(t, "datagram held", func() bool { return held.Load() != nil })
	h := *held.Load()
	nat := tn.endpoint()
	var natRecv atomic.Uint64
	drain(nat, &natRecv)
	// Forged: same session id, corrupted tag, from the new address.
	forged := bytes.Clone(h)
	forged[len(forged)-1] ^= 0xFF
	if _, err := nat.WriteBatch([]conn.Message{{Buf: forged, N: len(forged), Addr: b.Addr()}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "forged frame dropped", func() bool { return sb.Stats().Drops["drop_auth"] == 1 })
	if sb.RemoteAddr() != old {
		t.Fatal("unauthenticated frame moved the session")
	}
	// Authentic, from the new address (a NAT rebinding).
	if _, err := nat.WriteBatch([]conn.Message{{Buf: h, N: len(h), Addr: b.Addr()}}); err != nil {
		t.Fatal(err)
	}
	if p, _ := recv(t, sb); string(p) != "migrated" {
		t.Fatalf("got %q", p)
	}
	eventually(t, "challenge sent to the new address", func() bool { return natRecv.Load() > 0 })
	if st := sb.Stats(); sb.RemoteAddr() != old || st.Migrations != 0 || st.PathChallenges != 1 {
		t.Fatalf("remote %v (%d migrations, %d challenges) after an unvalidated frame from %v",
			sb.RemoteAddr(), st.Migrations, st.PathChallenges, nat.LocalAddr())
	}
	if n := natRecv.Load(); n > 3*uint64(len(h)) {
		t.Fatalf("the new address received %d bytes for %d", n, len(h))
	}
}

// TestLostFinalAnsweredFromCache drops the responder's first FINAL and
// everything else it sends until the FINAL came again: the initiator (whose
// keys were ready one round trip after its HELLO) retransmits AUTH_PROOF,
// the responder (whose session is already established) answers from its
// FINAL cache, and there is still exactly one session.
func TestLostFinalAnsweredFromCache(t *testing.T) {
	tn := newTestNet(t, 15)
	a, _ := tn.node(nil)
	b, hb := tn.node(nil)
	var dropped atomic.Int32
	hb.setHook(func(m *conn.Message) bool {
		var f codec.Frame
		if _, err := codec.Decode(m.Buf[:m.N], &f); err != nil {
			return true
		}
		if f.Type != codec.TypeHandshake {
			// Any authenticated frame would confirm the keys to the
			// initiator: hold them back until the FINAL came again.
			return dropped.Load() >= 2
		}
		if typ, _ := codec.PeekHandshakeType(f.Payload); typ == codec.HandshakeFinal && dropped.Add(1) == 1 {
			return false
		}
		return true
	})
	sa, sb := pair(t, a, b)
	eventually(t, "FINAL resent", func() bool {
		return b.Stats().Handshake["handshake_finals_resent"] > 0 && dropped.Load() >= 2
	})
	if dropped.Load() < 2 {
		t.Fatalf("FINAL not resent: %v", b.Stats().Handshake)
	}
	if n := b.Stats().Sessions["sessions_opened"]; n != 1 {
		t.Fatalf("%d sessions on the responder", n)
	}
	sendRetry(t, sa, 1, []byte("ok"))
	if p, _ := recv(t, sb); string(p) != "ok" {
		t.Fatalf("got %q", p)
	}
}
