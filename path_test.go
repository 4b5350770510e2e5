package stt

import (
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sttgo/stt/engine/conn"
	"github.com/sttgo/stt/engine/conn/conntest"
)

// drain reads ep until it closes and adds the bytes it received to *n.
func drain(ep *conntest.Endpoint, n *atomic.Uint64) {
	msgs := make([]conn.Message, 8)
	for i := range msgs {
		msgs[i].Buf = make([]byte, conntest.MaxDatagram)
	}
	go func() {
		for {
			k, err := ep.ReadBatch(msgs)
			if err != nil {
				return
			}
			for _, m := range msgs[:k] {
				n.Add(uint64(m.N))
			}
		}
	}()
}

// TestInjectorCannotMoveSession is the on-path injector of issue 13: every
// datagram the client sends to the server is copied and sent first from a
// third address, so each original arrives second and fails as a replay.
// Before path validation the session followed the copies to the third
// address: the transfer stalled, the injector received the server's
// traffic (22 KB in the run) and the client noticed nothing until
// the idle timeout. Now the copies are delivered (they are authentic) but
// the session keeps sending to the client, the transfer completes intact,
// and the third address receives only a few challenges.
func TestInjectorCannotMoveSession(t *testing.T) {
	tn := newTestNet(t, 31)
	a, ha := tn.node(nil)
	b, _ := tn.node(nil)
	sa, sb := pair(t, a, b)
	inj := tn.endpoint()
	var injRecv atomic.Uint64
	drain(inj, &injRecv)
	var copies atomic.Uint64
	ha.setHook(func(m *conn.Message) bool {
		if m.Addr == b.Addr() {
			c := conn.Message{Buf: append([]byte(nil), m.Buf[:m.N]...), N: m.N, Addr: b.Addr()}
			if _, err := inj.WriteBatch([]conn.Message{c}); err == nil {
				copies.Add(1)
			}
		}
		return true
	})
	transfer(t, sa, sb, 2, 512<<10, 20*time.Second)
	transfer(t, sb, sa, 1, 256<<10, 20*time.Second)
	st := sb.Stats()
	t.Logf("%d copies injected; server session: challenges %d, failures %d, refused %d, amplification-limited %d, replays dropped %d; injector received %d bytes",
		copies.Load(), st.PathChallenges, st.PathFailures, st.PathRefused, st.PathAmplificationLimited, st.Drops["drop_replay"], injRecv.Load())
	if copies.Load() < 100 {
		t.Fatalf("only %d copies injected: the attack did not run", copies.Load())
	}
	if sb.RemoteAddr() != a.Addr() || st.Migrations != 0 {
		t.Fatalf("session moved to %v (%d migrations)", sb.RemoteAddr(), st.Migrations)
	}
	if st.PathChallenges == 0 || st.PathChallenges > 3 {
		t.Fatalf("%d challenges sent to the injector, want 1-3", st.PathChallenges)
	}
	// At most three challenges of about 60 bytes each, whatever the
	// injector sends (the run gave it 22 KB).
	if n := injRecv.Load(); n > 512 {
		t.Fatalf("the injector received %d bytes", n)
	}
	if err := sa.Err(); err != nil {
		t.Fatal(err)
	}
	if err := sb.Err(); err != nil {
		t.Fatal(err)
	}
}

// natConn is a client socket behind a NAT that rebinds: until rebind, it
// sends and receives through old; after it, through nw (the new mapping),
// and whatever still arrives at old is dropped (the old mapping is gone).
type natConn struct {
	old, nw  *conntest.Endpoint
	rebound  atomic.Bool
	droppedN atomic.Uint64
}

func (c *natConn) ReadBatch(msgs []conn.Message) (int, error) {
	for {
		if c.rebound.Load() {
			return c.nw.ReadBatch(msgs)
		}
		n, err := c.old.ReadBatch(msgs)
		if err != nil {
			return n, err
		}
		if !c.rebound.Load() {
			return n, nil
		}
		c.droppedN.Add(uint64(n)) // arrived after the rebinding: the old mapping is dead
	}
}

func (c *natConn) WriteBatch(msgs []conn.Message) (int, error) {
	if c.rebound.Load() {
		return c.nw.WriteBatch(msgs)
	}
	return c.old.WriteBatch(msgs)
}

func (c *natConn) LocalAddr() netip.AddrPort { return c.old.LocalAddr() }
func (c *natConn) Caps() conn.Caps           { return c.old.Caps() }
func (c *natConn) Close() error {
	c.old.Close()
	return c.nw.Close()
}

// TestNATRebindingMidTransfer: the client's source address changes in the
// middle of a transfer and its old address goes dead. The server validates
// the new address (one PATH_CHALLENGE, answered within a round trip) and
// moves there; the transfer completes intact, whichever side sends.
func TestNATRebindingMidTransfer(t *testing.T) {
	t.Run("client sends", func(t *testing.T) { testNATRebinding(t, true) })
	t.Run("server sends", func(t *testing.T) { testNATRebinding(t, false) })
}

func testNATRebinding(t *testing.T, clientSends bool) {
	tn := newTestNet(t, 32)
	nc := &natConn{old: tn.endpoint(), nw: tn.endpoint()}
	a, err := Listen(Config{Seed: testSeed, Conn: nc, Shards: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	b, _ := tn.node(nil)
	sa, sb := pair(t, a, b)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("client %+v", sa.Stats())
			t.Logf("server %+v", sb.Stats())
		}
	})
	var rebindAt atomic.Int64
	go func() {
		// Rebind once the transfer is under way.
		for sb.Stats().StreamBytesIn+sa.Stats().StreamBytesIn < 256<<10 && sa.Err() == nil {
			time.Sleep(time.Millisecond)
		}
		rebindAt.Store(time.Now().UnixNano())
		nc.rebound.Store(true)
		// Unblock a ReadBatch waiting on the old mapping.
		poke := tn.endpoint()
		poke.WriteBatch([]conn.Message{{Buf: []byte("x"), N: 1, Addr: nc.old.LocalAddr()}})
		poke.Close()
		// The client's next datagram reveals its new address. It must
		// send one: a client that happens to be silent (everything
		// acknowledged, waiting for flow credit or for data that now goes
		// to the dead mapping) cannot be found by any protocol until it
		// sends (its keep-alive); meanwhile the server, with data in
		// flight to the dead mapping, declares it unreachable after six
		// probe timeouts. Here the application sends a datagram.
		_ = sa.SendDatagram(9, []byte("after the rebinding"))
	}()
	var movedAt atomic.Int64
	go func() {
		for sb.RemoteAddr() != nc.nw.LocalAddr() && sb.Err() == nil {
			time.Sleep(100 * time.Microsecond)
		}
		movedAt.Store(time.Now().UnixNano())
	}()
	if clientSends {
		transfer(t, sa, sb, 1, 4<<20, 30*time.Second)
	} else {
		transfer(t, sb, sa, 1, 4<<20, 30*time.Second)
	}
	eventually(t, "server followed the rebinding", func() bool { return sb.RemoteAddr() == nc.nw.LocalAddr() })
	st := sb.Stats()
	if st.Migrations != 1 || st.PathChallenges == 0 {
		t.Fatalf("migrations %d, challenges %d", st.Migrations, st.PathChallenges)
	}
	if ca := sa.Stats(); ca.PathResponses == 0 {
		t.Fatal("the client answered no challenge")
	}
	eventually(t, "move observed", func() bool { return movedAt.Load() != 0 })
	t.Logf("rebinding to migration: %v (smoothed RTT %v); challenges %d; datagrams dropped at the dead mapping %d; retransmits client %d server %d",
		time.Duration(movedAt.Load()-rebindAt.Load()), st.SmoothedRTT, st.PathChallenges, nc.droppedN.Load(), sa.Stats().Retransmits, st.Retransmits)
	// Both directions still work on the new path.
	transfer(t, sb, sa, 1, 256<<10, 20*time.Second)
	transfer(t, sa, sb, 1, 256<<10, 20*time.Second)
}

var _ = net.ErrClosed
