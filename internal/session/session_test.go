package session

import (
	"errors"
	"testing"
	"time"

	"github.com/sttgo/stt/codec"
)

func TestDataBothWays(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	a, b := newSides(t, clk, nil)
	a.sh.sealSend(a.s, codec.TypeData, 5, []byte("hi b"), clk.t)
	b.sh.sealSend(b.s, codec.TypeData, 6, []byte("hi a"), clk.t)
	deliver(t, a, b, clk.t)
	deliver(t, b, a, clk.t)
	if m, ok := pop(b.s); !ok || m != "hi b" {
		t.Fatalf("b got %q", m)
	}
	if m, ok := pop(a.s); !ok || m != "hi a" {
		t.Fatalf("a got %q", m)
	}
}

func TestPlaintextAndUnknownSessionDropped(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	a, b := newSides(t, clk, nil)
	f := codec.Frame{Header: codec.Header{Type: codec.TypeData, SessionID: a.s.RemoteID(), Sequence: 1}, Payload: []byte("plain")}
	b.sh.receive(&f, a.addr, clk.t)
	// Under an AEAD suite a frame without metadata is the normal layout, so
	// a plaintext frame fails authentication (docs/PROTOCOL.md section 5).
	if b.s.stats.DropAuth.Load() != 1 {
		t.Fatal("plaintext frame not dropped as unauthentic")
	}
	f.Metadata = make([]byte, 16) // the old layout's tag in metadata
	b.sh.receive(&f, a.addr, clk.t)
	if b.s.stats.DropBadMetadata.Load() != 1 {
		t.Fatal("frame with metadata not dropped")
	}
	f.Metadata = nil
	f.SessionID = codec.SessionID{9}
	b.sh.receive(&f, a.addr, clk.t)
	if b.n.stats.DropUnknownSession.Load() != 1 {
		t.Fatal("unknown session not counted")
	}
	if _, ok := pop(b.s); ok {
		t.Fatal("delivered")
	}
}

func TestReceiveQueueBounded(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	a, b := newSides(t, clk, func(c *Config) { c.RecvQueue = 4 })
	for range 6 {
		a.sh.sealSend(a.s, codec.TypeData, 1, []byte("x"), clk.t)
	}
	deliver(t, a, b, clk.t)
	if b.s.stats.DatagramsIn.Load() != 4 || b.s.stats.DropQueueFull.Load() != 2 {
		t.Fatalf("in %d dropped %d", b.s.stats.DatagramsIn.Load(), b.s.stats.DropQueueFull.Load())
	}
}

func TestKeepAliveAndIdleTimeout(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	a, b := newSides(t, clk, func(c *Config) { c.KeepAlive = 15 * time.Second; c.IdleTimeout = 60 * time.Second })
	clk.t = clk.t.Add(15 * time.Second)
	a.sh.runTimers(clk.t)
	if a.s.stats.PingsOut.Load() != 1 {
		t.Fatal("no keep-alive PING after 15 s idle")
	}
	deliver(t, a, b, clk.t) // b answers PONG
	deliver(t, b, a, clk.t)
	if a.s.stats.PongsIn.Load() != 1 {
		t.Fatal("no PONG")
	}
	// Nothing more arrives at a: 60 s after the PONG it closes.
	for range 5 {
		clk.t = clk.t.Add(15 * time.Second)
		a.sh.runTimers(clk.t)
		lose(t, a, b)
	}
	var ce *CloseError
	if !errors.As(a.s.Err(), &ce) || ce.Code != codec.CodeIdleTimeout || a.s.State() != Closed {
		t.Fatalf("state %v err %v", a.s.State(), a.s.Err())
	}
	if len(a.sh.sessions) != 0 {
		t.Fatal("closed session still in the table")
	}
}

func TestCloseWithDrain(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	a, b := newSides(t, clk, nil)
	a.sh.closeLocal(a.s, codec.CodeProtocol, "bad", clk.t, true)
	if a.s.State() != Closing {
		t.Fatalf("state %v", a.s.State())
	}
	// The SESSION_CLOSE is lost; b keeps sending: a repeats the close.
	lose(t, a, b)
	clk.t = clk.t.Add(100 * time.Millisecond)
	b.sh.sealSend(b.s, codec.TypeData, 1, []byte("late"), clk.t)
	deliver(t, b, a, clk.t)
	if _, ok := pop(a.s); ok {
		t.Fatal("closing session delivered data")
	}
	deliver(t, a, b, clk.t)
	var ce *CloseError
	if !errors.As(b.s.Err(), &ce) || !ce.Remote || ce.Code != codec.CodeProtocol || ce.Reason != "bad" {
		t.Fatalf("b: %v", b.s.Err())
	}
	clk.t = clk.t.Add(DefaultCloseDrain)
	a.sh.runTimers(clk.t)
	if a.s.State() != Closed || len(a.sh.sessions) != 0 {
		t.Fatalf("a state %v", a.s.State())
	}
}

// TestRotationProtocol drives rotations with full control over delivery:
// sequential, simultaneous, and a second request before the acknowledgment.
func TestRotationProtocol(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	a, b := newSides(t, clk, nil)
	exchange := func() {
		for deliver(t, a, b, clk.t)+deliver(t, b, a, clk.t) > 0 {
		}
	}
	check := func(want uint64) {
		t.Helper()
		if a.s.sealer.Phase() != want || a.s.opener.Phase() != want || b.s.sealer.Phase() != want || b.s.opener.Phase() != want {
			t.Fatalf("phases a %d/%d b %d/%d, want %d", a.s.sealer.Phase(), a.s.opener.Phase(), b.s.sealer.Phase(), b.s.opener.Phase(), want)
		}
	}
	a.s.rotateWanted = true
	a.sh.tryRotate(a.s, clk.t)
	// A second request before b acknowledged must wait.
	a.s.rotateWanted = true
	a.sh.tryRotate(a.s, clk.t)
	if a.s.sealer.Phase() != 1 {
		t.Fatalf("rotated past the unconfirmed phase: %d", a.s.sealer.Phase())
	}
	exchange()
	// The pending request went through once b acknowledged phase 1.
	check(2)
	// Simultaneous.
	a.s.rotateWanted, b.s.rotateWanted = true, true
	a.sh.tryRotate(a.s, clk.t)
	b.sh.tryRotate(b.s, clk.t)
	exchange()
	check(3)
	// Data still flows, and the grace timer discards the old phase.
	a.sh.sealSend(a.s, codec.TypeData, 1, []byte("p3"), clk.t)
	exchange()
	if m, _ := pop(b.s); m != "p3" {
		t.Fatalf("got %q", m)
	}
	clk.t = clk.t.Add(DefaultKeyGrace)
	b.sh.runTimers(clk.t)
	if b.s.opener.HasPrevious() {
		t.Fatal("previous phase kept after the grace period")
	}
}

func TestTimerHeap(t *testing.T) {
	var h timerHeap
	for _, v := range []int64{5, 3, 9, 1, 7, 3} {
		h.push(timerEntry{at: v})
	}
	prev := int64(-1)
	for range 6 {
		e := h.pop()
		if e.at < prev {
			t.Fatalf("heap order: %d after %d", e.at, prev)
		}
		prev = e.at
	}
	if _, ok := h.peek(); ok {
		t.Fatal("not empty")
	}
}

// TestRotationLostAck: the peer's acknowledgment of a new phase is lost;
// the blocked side nudges after krRepeat and the next rotation goes through.
func TestRotationLostAck(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	a, b := newSides(t, clk, nil)
	a.s.rotateWanted = true
	a.sh.tryRotate(a.s, clk.t)
	deliver(t, a, b, clk.t) // b promotes, rotates and acknowledges...
	lose(t, b, a)           // ...but everything b sent is lost
	a.s.rotateWanted = true
	a.sh.tryRotate(a.s, clk.t)
	if a.s.sealer.Phase() != 1 {
		t.Fatal("rotated without acknowledgment")
	}
	// No busy loop: running the timers now does nothing more.
	a.sh.runTimers(clk.t)
	if n := lose(t, a, b); n != 0 {
		t.Fatalf("%d frames sent before the nudge interval", n)
	}
	clk.t = clk.t.Add(krRepeat)
	a.sh.runTimers(clk.t)
	take(a, b)
	if n := b.frames(t, func(*codec.Frame) {}); n != 1 {
		t.Fatalf("nudge: %d frames", n)
	}
	for deliver(t, a, b, clk.t)+deliver(t, b, a, clk.t) > 0 {
	}
	if a.s.sealer.Phase() != 2 || b.s.opener.Phase() != 2 || b.s.sealer.Phase() != 2 || a.s.opener.Phase() != 2 {
		t.Fatalf("phases a %d/%d b %d/%d", a.s.sealer.Phase(), a.s.opener.Phase(), b.s.sealer.Phase(), b.s.opener.Phase())
	}
}

// TestRekeyAfterTime rotates on the time threshold, once per period.
func TestRekeyAfterTime(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	a, b := newSides(t, clk, func(c *Config) { c.RekeyAfterTime = time.Minute; c.KeepAlive = time.Hour; c.IdleTimeout = time.Hour })
	for i := 1; i <= 3; i++ {
		clk.t = clk.t.Add(time.Minute)
		a.sh.runTimers(clk.t)
		b.sh.runTimers(clk.t)
		for deliver(t, a, b, clk.t)+deliver(t, b, a, clk.t) > 0 {
		}
		if a.s.sealer.Phase() != uint64(i) || b.s.sealer.Phase() != uint64(i) {
			t.Fatalf("period %d: phases a %d b %d", i, a.s.sealer.Phase(), b.s.sealer.Phase())
		}
	}
}

// TestCloseRepeatedToASilentPeer: the SESSION_CLOSE is lost twice and the
// peer sends nothing; the closing side repeats it on its own timer within
// the drain period, so the peer learns of the close instead of idling out.
func TestCloseRepeatedToASilentPeer(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	a, b := newSides(t, clk, nil)
	a.sh.closeLocal(a.s, codec.CodeNoError, "bye", clk.t, true)
	if n := lose(t, a, b); n != 1 {
		t.Fatalf("%d frames at close, want the SESSION_CLOSE", n)
	}
	repeats := 0
	for step := 0; step < 100 && b.s.Err() == nil; step++ {
		clk.t = clk.t.Add(10 * time.Millisecond)
		a.sh.runTimers(clk.t)
		if repeats < 1 { // the first repeat is lost too
			repeats += lose(t, a, b)
			continue
		}
		deliver(t, a, b, clk.t)
	}
	var ce *CloseError
	if !errors.As(b.s.Err(), &ce) || !ce.Remote || ce.Code != codec.CodeNoError || ce.Reason != "bye" {
		t.Fatalf("b: %v (after %v)", b.s.Err(), clk.t.Sub(time.Unix(1000, 0)))
	}
	if !clk.t.Before(time.Unix(1000, 0).Add(DefaultCloseDrain)) {
		t.Fatalf("the close reached b only at %v, after the drain period", clk.t.Sub(time.Unix(1000, 0)))
	}
	// Toward a peer that never hears: the first close and closeRepeatMax
	// repeats, then the session ends after the drain.
	x, y := newSides(t, clk, nil)
	start := clk.t
	x.sh.closeLocal(x.s, codec.CodeNoError, "bye", clk.t, true)
	sent := lose(t, x, y)
	for clk.t.Before(start.Add(DefaultCloseDrain)) {
		clk.t = clk.t.Add(10 * time.Millisecond)
		x.sh.runTimers(clk.t)
		sent += lose(t, x, y)
	}
	if sent != 1+closeRepeatMax || x.s.State() != Closed {
		t.Fatalf("%d SESSION_CLOSEs sent, state %v; want %d, closed", sent, x.s.State(), 1+closeRepeatMax)
	}
}

// TestRemovedSessionLeavesTimerHeap: once a session is removed, the timer
// heap's entries (stale ones stay until their deadlines, up to the idle
// timeout) no longer reach it, so nothing but the application's handle
// keeps a closed session's state alive; its budget charges are gone.
func TestRemovedSessionLeavesTimerHeap(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	a, b := newSides(t, clk, nil)
	for range 10 {
		a.sh.sealSend(a.s, codec.TypeData, 1, make([]byte, 500), clk.t)
	}
	deliver(t, a, b, clk.t)
	if b.n.budget.Used() == 0 {
		t.Fatal("queued datagrams charged nothing")
	}
	reaches := func() int {
		n := 0
		for _, e := range b.sh.timers.h {
			if e.cell.ss == b.s {
				n++
			}
		}
		return n
	}
	if reaches() == 0 {
		t.Fatal("an established session has no timer entry")
	}
	b.sh.closeLocal(b.s, codec.CodeNoError, "bye", clk.t, false)
	if n := reaches(); n != 0 {
		t.Fatalf("%d timer entries still reach the removed session", n)
	}
	if len(b.sh.timers.h) == 0 {
		t.Fatal("the test expects the stale entries to stay in the heap")
	}
	if u := b.n.budget.Used(); u != 0 {
		t.Fatalf("budget %d after the close, want 0", u)
	}
	b.sh.runTimers(clk.t.Add(2 * time.Minute)) // the stale entries expire without touching it
}
