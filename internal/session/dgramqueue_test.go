package session

import (
	"context"
	"sync/atomic"
	"testing"
)

// TestRecvQueueCountsBeforeDelivery: a datagram that a reader received is
// already counted as accepted (Session.Stats read right after
// ReceiveDatagram must include it), and a full queue refuses without
// counting.
func TestRecvQueueCountsBeforeDelivery(t *testing.T) {
	const total = 5000
	closed := make(chan struct{})
	q := newDgramQueue(4, 64, closed, nil, nil)
	var accepted atomic.Uint64
	var stop atomic.Bool
	t.Cleanup(func() { stop.Store(true) }) // a failed reader leaves the pusher
	go func() {
		p := []byte("datagram")
		for sent := 0; sent < total && !stop.Load(); {
			if q.push(1, p, &accepted) {
				sent++
			}
		}
	}()
	buf := make([]byte, 64)
	for got := 1; got <= total; got++ {
		if _, _, err := q.wait(context.Background(), buf, func() error { return nil }); err != nil {
			t.Fatal(err)
		}
		if a := accepted.Load(); a < uint64(got) {
			t.Fatalf("received %d datagrams but only %d counted", got, a)
		}
	}

	full := newDgramQueue(2, 64, closed, nil, nil)
	var n atomic.Uint64
	for range 3 {
		full.push(1, []byte("x"), &n)
	}
	if n.Load() != 2 {
		t.Fatalf("a full queue counted %d accepted datagrams, want 2", n.Load())
	}
}
