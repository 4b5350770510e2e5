package stt

import (
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/engine/conn"
)

// TestStatelessResetAfterRestart: the peer's node is killed without a word
// (its SESSION_CLOSE never leaves) and a new node starts on the same
// address with the same seed. The survivor's next frames reach the new
// node, which answers with a stateless reset; the survivor's stream fails
// with ErrStatelessReset at once. Before stateless resets the new node
// dropped the frames silently and the survivor waited for the idle
// timeout.
func TestStatelessResetAfterRestart(t *testing.T) {
	tn := newTestNet(t, 34)
	a, _ := tn.node(nil)
	b, hb := tn.node(nil)
	sa, sb := pair(t, a, b)
	transfer(t, sa, sb, 1, 64<<10, 10*time.Second)
	addr := b.Addr()
	hb.setHook(func(*conn.Message) bool { return false }) // kill -9: nothing more leaves b
	b.Close()
	ep, err := tn.net.Listen(addr)
	if err != nil {
		t.Fatal(err)
	}
	b2, err := Listen(Config{Seed: testSeed, Conn: ep, Shards: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b2.Close() })
	st, err := sa.OpenStream(ctxT(t, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	buf := make([]byte, 16<<10)
	for err == nil {
		_, err = st.Write(buf)
		if time.Since(start) > 30*time.Second {
			t.Fatal("Write still succeeds 30 s after the restart")
		}
	}
	took := time.Since(start)
	var ce *CloseError
	if !errors.Is(err, ErrStatelessReset) || !errors.Is(err, ErrClosed) || !errors.As(err, &ce) || ce.Code != CodeStatelessReset {
		t.Fatalf("Write error %v, want ErrStatelessReset", err)
	}
	if !errors.Is(sa.Err(), ErrStatelessReset) {
		t.Fatalf("session error %v", sa.Err())
	}
	sent, recv := b2.Stats().Sessions["stateless_resets_sent"], a.Stats().Sessions["stateless_resets_received"]
	if sent == 0 || recv == 0 || recv > sent {
		t.Fatalf("resets sent %d, received %d", sent, recv)
	}
	t.Logf("survivor learned of the restart %v after its first write (smoothed RTT %v); resets sent %d, received %d: %v",
		took, sa.Stats().SmoothedRTT, sent, recv, err)
	// The survivor can dial the restarted node.
	pair(t, a, b2)
}

// TestStatelessResetForgery: reset-shaped datagrams with random tokens,
// and one with the token computed from another seed, all from the peer's
// own address, close nothing: they are dropped and counted as frames for
// an unknown session.
func TestStatelessResetForgery(t *testing.T) {
	tn := newTestNet(t, 35)
	a, _ := tn.node(nil)
	b, hb := tn.node(nil)
	sa, sb := pair(t, a, b)
	before := a.Stats().Sessions["drop_unknown_session"]
	const forged = 500
	buf := make([]byte, codec.MaxStatelessResetLen)
	for i := range forged {
		size := codec.MinStatelessResetLen + i%(codec.MaxStatelessResetLen-codec.MinStatelessResetLen+1)
		b := buf[:size]
		rand.Read(b)
		var h codec.Header
		h.Type = codec.TypeStream
		rand.Read(h.SessionID[:])
		var tok codec.ResetToken
		rand.Read(tok[:])
		if err := codec.PutStatelessReset(b, &h, &tok); err != nil {
			t.Fatal(err)
		}
		if _, err := hb.Batch.WriteBatch([]conn.Message{{Buf: b, N: size, Addr: a.Addr()}}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "forgeries counted", func() bool {
		return a.Stats().Sessions["drop_unknown_session"]-before >= forged
	})
	if n := a.Stats().Sessions["stateless_resets_received"]; n != 0 || sa.Err() != nil {
		t.Fatalf("%d resets accepted, session error %v", n, sa.Err())
	}
	transfer(t, sa, sb, 1, 64<<10, 10*time.Second)
}
