package stt

import (
	"testing"
	"time"

	"github.com/sttgo/stt/engine/conn/conntest"
)

// TestSimultaneousOpen: both nodes dial each other at once; both Dials
// return the two ends of one session.
func TestSimultaneousOpen(t *testing.T) {
	for seed := uint64(40); seed < 44; seed++ {
		tn := newTestNet(t, seed)
		// Delay both ways so that the two HELLOs cross in flight.
		if err := tn.net.SetDefault(conntest.Impairment{Delay: 30 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
		a, _ := tn.node(nil)
		b, _ := tn.node(nil)
		type res struct {
			s   *Session
			err error
		}
		ra, rb := make(chan res, 1), make(chan res, 1)
		go func() { s, err := a.DialAddrPort(ctxT(t, 20e9), b.Addr()); ra <- res{s, err} }()
		go func() { s, err := b.DialAddrPort(ctxT(t, 20e9), a.Addr()); rb <- res{s, err} }()
		x, y := <-ra, <-rb
		if x.err != nil || y.err != nil {
			t.Fatalf("seed %d: dials: %v / %v", seed, x.err, y.err)
		}
		if x.s.LocalID() != y.s.RemoteID() || x.s.RemoteID() != y.s.LocalID() {
			t.Fatalf("seed %d: two different sessions", seed)
		}
		sendRetry(t, x.s, 1, []byte("one session"))
		if p, _ := recv(t, y.s); string(p) != "one session" {
			t.Fatalf("got %q", p)
		}
		t.Logf("seed %d: a kept %d yielded %d; b kept %d yielded %d", seed,
			a.Stats().Sessions["simultaneous_kept"], a.Stats().Sessions["simultaneous_yield"],
			b.Stats().Sessions["simultaneous_kept"], b.Stats().Sessions["simultaneous_yield"])
	}
}
