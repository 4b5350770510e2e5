package streams

import (
	"testing"
	"time"
)

// TestSteadyStateAllocs drives one stream through Write, Poll, Sent,
// HandleStream, OnReceived, the ACK back, and Read, and requires zero
// allocations per round once warm.
func TestSteadyStateAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	w := newWire(t, 0)
	a, _ := w.c[0].OpenStream(t.Context())
	a.Write([]byte("x"))
	w.run(func() bool { return len(w.c[1].acceptQ) > 0 })
	b, _ := w.c[1].AcceptStream(t.Context())
	b.Read(make([]byte, 1))

	msg := make([]byte, 1000)
	rbuf := make([]byte, 4096)
	pl := make([]byte, 2048)
	pump := func(from, to int) {
		c, peer := w.c[from], w.c[to]
		for {
			f, ok := c.Poll(w.now, w.buf)
			if !ok {
				return
			}
			w.seq[from]++
			c.Sent(w.now, w.seq[from], &f, len(f.Payload)+50)
			n := copy(pl, f.Payload)
			w.deliver(peer, pkt{seq: w.seq[from], typ: f.Type, flags: f.Flags, stream: f.StreamID, payload: pl[:n]})
			peer.WakeWaiters()
		}
	}
	round := func() {
		if _, err := a.Write(msg); err != nil {
			t.Fatal(err)
		}
		pump(0, 1)
		w.now = w.now.Add(time.Millisecond)
		w.c[1].OnTimeout(w.now)
		pump(1, 0)
		for got := 0; got < len(msg); {
			n, err := b.Read(rbuf)
			if err != nil {
				t.Fatal(err)
			}
			got += n
		}
		pump(1, 0) // credit updates
	}
	for range 3000 {
		round()
	}
	if allocs := testing.AllocsPerRun(500, round); allocs != 0 {
		t.Fatalf("%v allocations per write/send/ack/read round, want 0", allocs)
	}
	if w.c[0].Stats().AcksIn.Load() == 0 || w.c[1].Stats().StreamFramesIn.Load() < 3000 {
		t.Fatal("the rounds did not exchange frames and ACKs")
	}
}
