package stt

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sttgo/stt/engine/conn/conntest"
)

// TestKeyRotationUnderTraffic rotates keys every 64 frames while datagrams
// flow both ways: none is lost and both sides end in the same phases.
func TestKeyRotationUnderTraffic(t *testing.T) {
	// minRotations is what the traffic guarantees even on a slow machine:
	// each rotation waits for the peer's confirmation (a round trip), so
	// fewer frames under -race leave room for fewer of them.
	n, minRotations := 3000, uint64(5)
	if raceEnabled {
		n, minRotations = 600, 2
	}
	tn := newTestNet(t, 30)
	mod := func(c *Config) { c.RekeyAfterFrames = 64 }
	a, _ := tn.node(mod)
	b, _ := tn.node(mod)
	sa, sb := pair(t, a, b)
	flow := func(from, to *Session, done chan<- error) {
		var got atomic.Int64
		go func() {
			buf := make([]byte, 2048)
			for i := range n {
				k, _, err := to.ReceiveDatagram(ctxT(t, 20*time.Second), buf)
				if err != nil {
					done <- err
					return
				}
				if k != 100 || buf[0] != byte(i) {
					done <- errors.New("datagram out of order or corrupted")
					return
				}
				got.Add(1)
			}
			done <- nil
		}()
		go func() {
			p := make([]byte, 100)
			for i := range n {
				for int64(i)-got.Load() > 128 { // stay below the receive queue
					time.Sleep(50 * time.Microsecond)
				}
				p[0] = byte(i)
				for from.SendDatagram(1, p) != nil {
					time.Sleep(50 * time.Microsecond)
				}
			}
		}()
	}
	done := make(chan error, 2)
	flow(sa, sb, done)
	flow(sb, sa, done)
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	// Let the last KEY_ROTATION acknowledgments land, then compare phases.
	eventually(t, "phases agree", func() bool {
		as, ar := sa.KeyPhases()
		bs, br := sb.KeyPhases()
		return as == br && bs == ar
	})
	as, ar := sa.KeyPhases()
	if as < minRotations {
		t.Fatalf("only %d rotations, want at least %d", as, minRotations)
	}
	for _, s := range []*Session{sa, sb} {
		st := s.Stats()
		if st.Drops["drop_unknown_phase"] != 0 || st.Drops["drop_auth"] != 0 || st.Drops["drop_queue_full"] != 0 {
			t.Fatalf("drops during rotation: %v", st.Drops)
		}
	}
	t.Logf("phases: send %d recv %d, rotations a=%d b=%d", as, ar, sa.Stats().KeyRotations, sb.Stats().KeyRotations)
	// RotateKeys on demand moves the phase too.
	if err := sa.RotateKeys(); err != nil {
		t.Fatal(err)
	}
	sendRetry(t, sa, 1, []byte("after"))
	recv(t, sb)
	eventually(t, "manual rotation", func() bool { s, _ := sa.KeyPhases(); _, r := sb.KeyPhases(); return s == as+1 && r == as+1 })
}

// TestIdleTimeout cuts the link: both sessions close with IDLE_TIMEOUT.
func TestIdleTimeout(t *testing.T) {
	tn := newTestNet(t, 31)
	mod := func(c *Config) { c.KeepAlive = 50 * time.Millisecond; c.IdleTimeout = 400 * time.Millisecond }
	a, _ := tn.node(mod)
	b, _ := tn.node(mod)
	sa, sb := pair(t, a, b)
	if err := tn.net.SetDefault(conntest.Impairment{Loss: 1}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*Session{sa, sb} {
		<-s.Done()
		var ce *CloseError
		if !errors.As(s.Err(), &ce) || ce.Remote || ce.Code != CodeIdleTimeout {
			t.Fatalf("err %v", s.Err())
		}
	}
}

// TestKeepAliveKeepsSessionOpen: with pings every 20 ms and an idle timeout
// of 2 s, a silent session is still open after several keep-alive periods
// (checked by counting the peer's pongs, not by timing).
func TestKeepAliveKeepsSessionOpen(t *testing.T) {
	tn := newTestNet(t, 32)
	mod := func(c *Config) { c.KeepAlive = 20 * time.Millisecond; c.IdleTimeout = 2 * time.Second }
	a, _ := tn.node(mod)
	b, _ := tn.node(mod)
	sa, sb := pair(t, a, b)
	eventually(t, "pongs", func() bool { return sa.h().Stats().PongsIn.Load() >= 5 && sb.h().Stats().PongsIn.Load() >= 5 })
	if sa.Err() != nil || sb.Err() != nil {
		t.Fatalf("closed: %v %v", sa.Err(), sb.Err())
	}
}

// TestTableFullTellsThePeer: a responder whose session table is full still
// finishes the handshake it answered, then closes the new session with
// SESSION_CLOSE(SESSION, "session table full"), so the dialer learns why at
// once instead of idling out.
func TestTableFullTellsThePeer(t *testing.T) {
	tn := newTestNet(t, 15)
	srv, _ := tn.node(func(c *Config) { c.MaxSessions = 1; c.Shards = 1 })
	a, _ := tn.node(nil)
	b, _ := tn.node(nil)
	pair(t, a, srv) // takes the only slot
	ctx := ctxT(t, 20*time.Second)
	s, err := b.DialAddrPort(ctx, srv.Addr()) // the handshake completes (FINAL), then the close follows
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	select {
	case <-s.Done():
	case <-ctx.Done():
		t.Fatal("the refused session stayed open")
	}
	var ce *CloseError
	if !errors.As(s.Err(), &ce) || !ce.Remote || ce.Code != CodeSession || ce.Reason != "session table full" {
		t.Fatalf("refused session ended with %v", s.Err())
	}
	if srv.Stats().Sessions["table_full"] == 0 {
		t.Errorf("table_full not counted: %+v", srv.Stats())
	}
}
