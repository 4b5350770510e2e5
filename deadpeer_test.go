package stt

import (
	"errors"
	"testing"
	"time"

	"github.com/sttgo/stt/engine/conn/conntest"
)

// TestDeadPeerDetected: the peer vanishes (the network drops everything
// in both directions, as after kill -9) while the survivor has stream data
// in flight. The survivor's Write fails with ErrPeerUnreachable after six
// probe timeouts, well before the idle timeout (60 s). Before dead-peer
// detection, it only noticed at the idle timeout.
func TestDeadPeerDetected(t *testing.T) {
	tn := newTestNet(t, 33)
	a, _ := tn.node(nil)
	b, _ := tn.node(nil)
	sa, sb := pair(t, a, b)
	transfer(t, sa, sb, 1, 64<<10, 10*time.Second) // an RTT estimate
	st, err := sa.OpenStream(ctxT(t, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Write(make([]byte, 32<<10)); err != nil {
		t.Fatal(err)
	}
	dead := conntest.Impairment{Loss: 1}
	if err := tn.net.SetLink(a.Addr(), b.Addr(), dead); err != nil {
		t.Fatal(err)
	}
	if err := tn.net.SetLink(b.Addr(), a.Addr(), dead); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	buf := make([]byte, 16<<10)
	for {
		_, err = st.Write(buf)
		if err != nil {
			break
		}
		if time.Since(start) > 45*time.Second {
			t.Fatal("Write still succeeds 45 s after the peer vanished")
		}
	}
	took := time.Since(start)
	var ce *CloseError
	if !errors.Is(err, ErrPeerUnreachable) || !errors.Is(err, ErrClosed) || !errors.As(err, &ce) || ce.Code != CodePeerUnreachable {
		t.Fatalf("Write error %v (%T), want ErrPeerUnreachable", err, err)
	}
	if !errors.Is(sa.Err(), ErrPeerUnreachable) {
		t.Fatalf("session error %v", sa.Err())
	}
	if _, err := st.Read(buf); !errors.Is(err, ErrPeerUnreachable) {
		t.Fatalf("Read error %v", err)
	}
	// Far below the idle timeout (not a timing assertion: the bound is 63
	// base PTOs, about 1.7 s here).
	if took >= 30*time.Second {
		t.Fatalf("detected after %v", took)
	}
	if n := a.Stats().Sessions["peers_unreachable"]; n != 1 {
		t.Fatalf("peers_unreachable = %d", n)
	}
	t.Logf("peer declared unreachable %v after it vanished (smoothed RTT before: %v): %v", took, sa.Stats().SmoothedRTT, err)
}
