package session

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/sttgo/stt/internal/membudget"
)

// TestRecvQueueCountsBeforeDelivery: a datagram that a reader received is
// already counted as accepted (Session.Stats read right after
// ReceiveDatagram must include it), and a full queue refuses without
// counting.
func TestRecvQueueCountsBeforeDelivery(t *testing.T) {
	const total = 5000
	closed := make(chan struct{})
	q := newDgramQueue(4, 64, closed, nil)
	var accepted atomic.Uint64
	var stop atomic.Bool
	t.Cleanup(func() { stop.Store(true) }) // a failed reader leaves the pusher
	go func() {
		p := []byte("datagram")
		for sent := 0; sent < total && !stop.Load(); {
			if q.push(1, p, &accepted) == pushed {
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

	full := newDgramQueue(2, 64, closed, nil)
	var n atomic.Uint64
	for i := range 3 {
		want := pushed
		if i == 2 {
			want = dropFull
		}
		if r := full.push(1, []byte("x"), &n); r != want {
			t.Fatalf("push %d: %d, want %d", i, r, want)
		}
	}
	if n.Load() != 2 {
		t.Fatalf("a full queue counted %d accepted datagrams, want 2", n.Load())
	}
}

// TestRecvQueueBudget: slot buffers are charged to the node budget; a
// datagram the budget cannot take is dropped (dropBudget, which the
// session counts); a datagram above the MTU gets its own buffer, counts its bytes
// against slots*MTU and is freed when popped; release frees the empty
// slots and every charge.
func TestRecvQueueBudget(t *testing.T) {
	const mtu = 100
	b := membudget.New(3 * mtu)
	var accepted atomic.Uint64
	var budgetDrops int
	q := newDgramQueue(8, mtu, make(chan struct{}), b)
	p := make([]byte, 50)
	for range 4 {
		switch q.push(1, p, &accepted) {
		case dropFull:
			t.Fatal("push refused as full below the slot count")
		case dropBudget:
			budgetDrops++
		}
	}
	if accepted.Load() != 3 || budgetDrops != 1 || b.Used() != 3*mtu {
		t.Fatalf("accepted %d, budget drops %d, charged %d; want 3, 1, %d", accepted.Load(), budgetDrops, b.Used(), 3*mtu)
	}
	buf := make([]byte, 1000)
	for range 3 {
		q.pop(buf)
	}
	// The MTU-sized slot buffers stay (reused, still charged).
	if b.Used() != 3*mtu {
		t.Fatalf("charged %d after pops, want %d", b.Used(), 3*mtu)
	}

	// A datagram above the MTU counts its size against slots*MTU (800).
	big := make([]byte, 700)
	b2 := membudget.New(1 << 20)
	q2 := newDgramQueue(8, mtu, make(chan struct{}), b2)
	if q2.push(1, big, &accepted) != pushed {
		t.Fatal("a 700-byte datagram refused by an empty queue of 8x100 bytes")
	}
	if q2.push(1, big, &accepted) != dropFull {
		t.Fatal("a second 700-byte datagram accepted: the queue would hold 1400 bytes of 800")
	}
	if b2.Used() != 700 {
		t.Fatalf("charged %d for one 700-byte datagram", b2.Used())
	}
	if n, _, _, ok := q2.pop(buf); !ok || n != 700 {
		t.Fatalf("pop: %d %v", n, ok)
	}
	if b2.Used() != 0 || q2.slots[0].buf != nil {
		t.Fatalf("the large datagram's buffer was kept (charged %d)", b2.Used())
	}

	// Close: the queued datagram stays readable, everything else goes.
	q.push(1, []byte("last"), &accepted)
	q.release()
	if b.Used() != 0 {
		t.Fatalf("charged %d after release, want 0", b.Used())
	}
	kept := 0
	for _, sl := range q.slots {
		if sl.buf != nil {
			kept++
		}
	}
	if kept != 1 {
		t.Fatalf("%d slot buffers kept after release, want 1 (the queued datagram)", kept)
	}
	if n, _, _, ok := q.pop(buf); !ok || string(buf[:n]) != "last" {
		t.Fatalf("the datagram queued before the close: %q %v", buf[:n], ok)
	}
}
