package handshake

import (
	"errors"
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
	// HELLOs the responder refuses: no common suite, another version.
	hello := p.find(codec.HandshakeHello, 0)
	f.Add(relabel(f, hello, func(m map[string]any) { m["suites"] = []any{int64(99)} }))
	f.Add(relabel(f, hello, func(m map[string]any) { m["version"] = int64(2) }))
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
	q, _ := reachResponse(f, 2)
	f.Add(rejectMsg(codec.RejectNoCommonSuite, 1, q.in.hello.Nonce, 9)) // ends the handshake
	f.Add(rejectMsg(codec.RejectVersion, 2, q.in.hello.Nonce, 1))
	f.Add(rejectMsg(codec.RejectNoCommonSuite, 1, [32]byte{1}, 9)) // wrong echo
	f.Fuzz(func(t *testing.T, msg []byte) {
		q, _ := reachResponse(t, 2)
		if _, done, _ := q.in.Handle(msg, q.now); done {
			t.Fatal("completed while waiting for RESPONSE")
		}
		// Only a REJECT echoing the HELLO in flight can end it with a RejectError.
		var re *RejectError
		if errors.As(q.in.Err(), &re) {
			var m codec.Reject
			if m.Decode(msg) != nil || m.Echo != q.in.hello.Nonce {
				t.Fatalf("RejectError from %x", msg)
			}
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
