package handshake

import (
	"bytes"
	"testing"
)

// TestPendingHelloOnce: the HELLO in flight is handed out once per
// attempt, and never after the RESPONSE.
func TestPendingHelloOnce(t *testing.T) {
	p := newPair(t, 590)
	hello, err := p.in.Start(p.now)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.in.PendingHello(); !bytes.Equal(got, hello) {
		t.Fatal("first PendingHello is not the HELLO in flight")
	}
	if p.in.PendingHello() != nil {
		t.Fatal("second PendingHello returned the HELLO again")
	}
	q := newPair(t, 591)
	msg, _ := q.in.Start(q.now)
	resp, _, err := q.toResponder(msg)
	if err != nil {
		t.Fatal(err)
	}
	if _, done, err := q.in.Handle(resp, q.now); err != nil || !done {
		t.Fatal(err)
	}
	if q.in.PendingHello() != nil {
		t.Fatal("PendingHello after the RESPONSE")
	}
}
