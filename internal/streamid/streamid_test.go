package streamid

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestRoleParity(t *testing.T) {
	for n := uint64(1); n <= 1000; n++ {
		i, r := Initiator.ID(n), Responder.ID(n)
		if i%2 != 1 || r%2 != 0 || r == 0 {
			t.Fatalf("ordinal %d: ids %d %d", n, i, r)
		}
		if Ordinal(i) != n || Ordinal(r) != n || !Initiator.Owns(i) || Initiator.Owns(r) || !Responder.Owns(r) || Responder.Owns(i) {
			t.Fatalf("ordinal %d: round trip", n)
		}
	}
	if Initiator.ID(MaxCount) != math.MaxUint32-2 || Responder.ID(MaxCount) != math.MaxUint32-1 {
		t.Fatalf("last ids %d %d", Initiator.ID(MaxCount), Responder.ID(MaxCount))
	}
	if Initiator.Owns(0) || Responder.Owns(0) || Initiator.Peer() != Responder || Responder.Peer() != Initiator {
		t.Fatal("id 0 or Peer")
	}
	var l Local
	if l.Init(0, 1) != ErrBadRole || l.Init(3, 1) != ErrBadRole {
		t.Fatal("bad role accepted")
	}
}

func TestLocalOpen(t *testing.T) {
	var l Local
	l.Init(Responder, 2)
	for _, want := range []uint32{2, 4} {
		if id, err := l.Open(); err != nil || id != want {
			t.Fatalf("Open = %d %v, want %d", id, err, want)
		}
	}
	if _, err := l.Open(); err != ErrBlocked || !l.Blocked() {
		t.Fatalf("open past the limit: %v", err)
	}
	if l.Raise(1) || l.Raise(2) || !l.Raise(3) {
		t.Fatal("Raise")
	}
	if id, err := l.Open(); err != nil || id != 6 {
		t.Fatal(err)
	}
	if !l.IsOpen(4) || l.IsOpen(8) || l.IsOpen(3) {
		t.Fatal("IsOpen")
	}
	l.Init(Initiator, math.MaxUint64)
	l.opened = MaxCount - 1
	if id, err := l.Open(); err != nil || id != math.MaxUint32-2 {
		t.Fatalf("last id %d %v", id, err)
	}
	if _, err := l.Open(); err != ErrExhausted || l.Blocked() {
		t.Fatalf("past the last id: %v", err)
	}
}

func TestRemoteAccept(t *testing.T) {
	var r Remote
	r.Init(Initiator, 4) // the peer is the responder: even ids, 4 at once
	for _, c := range []struct {
		id    uint32
		opens uint64
		err   error
	}{
		{0, 0, ErrZero},
		{1, 0, ErrNotOpened},
		{4, 2, nil}, // opens 2 and 4
		{2, 0, nil},
		{8, 2, nil}, // opens 6 and 8
		{10, 0, ErrLimit},
		{math.MaxUint32 - 1, 0, ErrLimit},
	} {
		opens, err := r.Accept(c.id)
		if opens != c.opens || err != c.err {
			t.Errorf("Accept(%d) = %d %v, want %d %v", c.id, opens, err, c.opens, c.err)
		}
	}
	if _, ok := r.Update(); ok {
		t.Fatal("update with nothing retired")
	}
	r.Retire()
	if _, ok := r.Update(); ok {
		t.Fatal("update for a single retirement with window 4")
	}
	r.Retire()
	if lim, ok := r.Update(); !ok || lim != 6 || r.Limit() != 6 {
		t.Fatalf("Update = %d %v", lim, ok)
	}
	if opens, err := r.Accept(12); err != nil || opens != 2 || r.Active() != 4 {
		t.Fatalf("after update: %d %v, open %d", opens, err, r.Active())
	}
	for range 10 {
		r.Retire()
	}
	if r.Active() != 0 {
		t.Fatal("retired more than opened")
	}
}

func TestTableReceive(t *testing.T) {
	var tb Table
	tb.Init(Initiator, 10, 10)
	id, _ := tb.Local.Open()
	if opens, err := tb.Receive(id); err != nil || opens != 0 {
		t.Fatal(err)
	}
	if _, err := tb.Receive(id + 2); err != ErrNotOpened {
		t.Fatalf("unopened local stream: %v", err)
	}
	if opens, err := tb.Receive(2); err != nil || opens != 1 {
		t.Fatal(err)
	}
	if _, err := tb.Receive(0); err != ErrZero {
		t.Fatal(err)
	}
	if _, err := tb.Receive(22); err != ErrLimit {
		t.Fatal(err)
	}
	if tb.Init(7, 1, 1) != ErrBadRole {
		t.Fatal("bad role")
	}
}

// TestStreamLimitModel runs two peers that open and finish streams at
// random, exchanging MAX_STREAMS through a reordering channel, plus a
// misbehaving opener that guesses ids. An honest opener never trips
// ErrLimit; the concurrent peer streams never exceed the window; every id
// above the announced limit is refused.
func TestStreamLimitModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const window = 8
	var a, b Table // a: initiator, b: responder
	a.Init(Initiator, window, window)
	b.Init(Responder, window, window)
	var live []uint32   // streams a opened, still open at b
	var credit []uint64 // MAX_STREAMS in flight from b to a
	for range 100000 {
		switch rng.IntN(4) {
		case 0:
			id, err := a.Local.Open()
			if err == ErrBlocked {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.Receive(id); err != nil {
				t.Fatalf("honest id %d refused: %v", id, err)
			}
			live = append(live, id)
		case 1:
			if len(live) > 0 {
				k := rng.IntN(len(live))
				live[k] = live[len(live)-1]
				live = live[:len(live)-1]
				b.Remote.Retire()
				if lim, ok := b.Remote.Update(); ok {
					credit = append(credit, lim)
				}
			}
		case 2:
			if len(credit) > 0 {
				k := rng.IntN(len(credit))
				a.Local.Raise(credit[k])
				credit[k] = credit[len(credit)-1]
				credit = credit[:len(credit)-1]
			}
		case 3:
			id := uint32(rng.Uint64N(2*b.Remote.Limit()+20)) | 1
			_, err := b.Receive(id)
			if Ordinal(id) > b.Remote.Limit() && err != ErrLimit {
				t.Fatalf("id %d above limit %d: %v", id, b.Remote.Limit(), err)
			}
			if Ordinal(id) <= b.Remote.Limit() && err != nil {
				t.Fatalf("id %d within limit: %v", id, err)
			}
		}
		if b.Remote.Active() > window || a.Local.Max() > b.Remote.Limit() {
			t.Fatalf("open %d > window or limits disagree", b.Remote.Active())
		}
	}
	if a.Local.Opened() < 1000 {
		t.Fatalf("only %d streams opened: limit updates stall", a.Local.Opened())
	}
}

func TestStreamIDAllocs(t *testing.T) {
	var tb Table
	tb.Init(Responder, math.MaxUint64, 16)
	if n := testing.AllocsPerRun(1000, func() {
		id, _ := tb.Local.Open()
		tb.Receive(id)
		tb.Receive(tb.Remote.role.ID(tb.Remote.Opened() + 1))
		tb.Remote.Retire()
		tb.Remote.Update()
	}); n != 0 {
		t.Fatalf("%v allocs per run", n)
	}
}
