package handshake

import (
	"testing"

	"github.com/sttgo/stt/codec"
)

// FuzzResponderHandle feeds arbitrary payloads to a responder that already
// holds a half-open entry and a recent session: it must never panic, never
// establish a session from fuzz input alone, and never answer an
// address it has not validated with more bytes than it received.
func FuzzResponderHandle(f *testing.F) {
	p := newPair(f, 1)
	p.run()
	for _, m := range p.trace {
		f.Add(m.b)
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		q := newPair(t, 1)
		q.run()
		reply, keys, err := q.resp.Handle(addrI, msg, q.now)
		if keys != nil {
			// Only the genuine AUTH_PROOF of a live half-open entry could,
			// and none is pending after run.
			t.Fatal("fuzz input established a session")
		}
		if err != nil && reply != nil {
			t.Fatal("reply with error")
		}
		if len(reply) > len(msg) {
			t.Fatalf("reply %d bytes to %d", len(reply), len(msg))
		}
		// An unvalidated address gets at most a RETRY and creates no state.
		other := addrR
		reply, _, _ = q.resp.Handle(other, msg, q.now)
		if len(reply) > len(msg) || q.resp.HalfOpen() != 0 {
			t.Fatal("state or amplification for an unvalidated address")
		}
	})
}

// FuzzInitiatorHandle feeds arbitrary payloads to an initiator waiting for
// a RESPONSE and to one waiting for FINAL: no panic, and no completion.
func FuzzInitiatorHandle(f *testing.F) {
	p := newPair(f, 2)
	p.run()
	for _, m := range p.trace {
		f.Add(m.b)
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		q, _ := reachResponse(t, 2)
		if _, done, _ := q.in.Handle(msg, q.now); done {
			t.Fatal("completed while waiting for RESPONSE")
		}
		r, resp := reachResponse(t, 3)
		if _, _, err := r.in.Handle(resp, r.now); err != nil {
			t.Fatal(err)
		}
		if _, done, err := r.in.Handle(msg, r.now); done {
			if typ, _ := codec.PeekHandshakeType(msg); typ != codec.HandshakeFinal {
				t.Fatalf("completed on %v: %v", typ, err)
			}
			t.Fatal("completed on a fuzzed FINAL")
		}
	})
}
