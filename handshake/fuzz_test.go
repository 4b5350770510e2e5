package handshake

import (
	"bytes"
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
	f.Add(relabel(f, hello, func(m map[string]any) { m["version"] = int64(codec.HandshakeVersion + 1) }))
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
		checkAmplification(t, msg, reply)
		// An address that never completed a handshake gets a reply no
		// larger than the message (never a FINAL) and at most one
		// half-open entry.
		other := addrR
		reply, _, _ = q.resp.Handle(other, msg, q.now)
		if typ, _ := codec.PeekHandshakeType(reply); len(reply) > len(msg) || typ == codec.HandshakeFinal || q.resp.HalfOpen() > 1 {
			t.Fatal("state or amplification for an unvalidated address")
		}
	})
}

// FuzzInitiatorHandle feeds arbitrary payloads to an initiator waiting for
// a RESPONSE and to one waiting for FINAL: no panic, keys only from the
// genuine RESPONSE, confirmation only from the genuine FINAL.
func FuzzInitiatorHandle(f *testing.F) {
	p := newPair(f, 2)
	p.run()
	for _, m := range p.trace {
		f.Add(m.b)
	}
	q, _ := reachResponse(f, 2)
	f.Add(rejectMsg(codec.RejectNoCommonSuite, codec.HandshakeVersion, q.in.hello.Nonce, 9)) // ends the handshake
	f.Add(rejectMsg(codec.RejectVersion, codec.HandshakeVersion+1, q.in.hello.Nonce, 1))
	f.Add(rejectMsg(codec.RejectNoCommonSuite, codec.HandshakeVersion, [32]byte{1}, 9)) // wrong echo
	f.Fuzz(func(t *testing.T, msg []byte) {
		q, genuine := reachResponse(t, 2)
		if _, done, _ := q.in.Handle(msg, q.now); done && !bytes.Equal(msg, genuine) {
			t.Fatal("keys from a message other than the genuine RESPONSE")
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
		auth, _, err := r.in.Handle(resp, r.now)
		if err != nil {
			t.Fatal(err)
		}
		final, _, err := r.toResponder(auth)
		if err != nil {
			t.Fatal(err)
		}
		if _, done, err := r.in.Handle(msg, r.now); done || (r.in.Confirmed() && !bytes.Equal(msg, final)) {
			typ, _ := codec.PeekHandshakeType(msg)
			t.Fatalf("done %v, confirmed %v on %v: %v", done, r.in.Confirmed(), typ, err)
		}
	})
}
