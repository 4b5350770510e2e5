package session

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/sttgo/stt/internal/wake"
)

// dgramQueue is a session's bounded queue of received datagrams: a fixed
// ring of slots whose byte slices are allocated on first use (at most cap
// slots of MTU bytes each) and then reused. The shard goroutine pushes
// (copying out of the packet buffer); application goroutines pop. When the
// ring is full the datagram is dropped and counted: datagrams are
// unreliable.
type dgramQueue struct {
	mu     sync.Mutex
	slots  []dgramSlot
	head   int // next to pop
	n      int
	mtu    int
	ready  wake.Signal   // "the queue became non-empty"
	closed chan struct{} // the session's done channel
}

type dgramSlot struct {
	buf    []byte
	n      int
	stream uint32
}

func newDgramQueue(capacity, mtu int, closed chan struct{}) *dgramQueue {
	q := &dgramQueue{slots: make([]dgramSlot, capacity), mtu: mtu, closed: closed}
	q.ready.Init()
	return q
}

// push copies p into the ring and adds 1 to accepted, or reports false
// (drop) when the ring is full. accepted is incremented under the queue's
// lock, before the datagram can be popped: a reader that received a
// datagram also sees it counted.
func (q *dgramQueue) push(stream uint32, p []byte, accepted *atomic.Uint64) bool {
	q.mu.Lock()
	if q.n == len(q.slots) {
		q.mu.Unlock()
		return false
	}
	sl := &q.slots[(q.head+q.n)%len(q.slots)]
	if cap(sl.buf) < len(p) {
		sl.buf = make([]byte, max(len(p), q.mtu)) // first use of the slot (or a larger datagram)
	}
	sl.n = copy(sl.buf[:cap(sl.buf)], p)
	sl.stream = stream
	q.n++
	accepted.Add(1)
	q.mu.Unlock()
	q.ready.Notify()
	return true
}

// pop copies the oldest datagram into buf and returns the bytes copied, its
// stream and whether it was truncated (longer than buf), or ok false when
// the queue is empty.
func (q *dgramQueue) pop(buf []byte) (n int, stream uint32, truncated, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n == 0 {
		return 0, 0, false, false
	}
	sl := &q.slots[q.head]
	n = copy(buf, sl.buf[:sl.n])
	truncated, stream = sl.n > n, sl.stream
	q.head = (q.head + 1) % len(q.slots)
	q.n--
	if q.n > 0 {
		q.ready.Notify() // pass the wake-up on to another reader
	}
	return n, stream, truncated, true
}

// wait pops one datagram, blocking until one arrives, ctx ends or the
// session closes (errClosed then; datagrams queued before the close are
// still delivered first). A truncated datagram returns ErrTruncated with
// the bytes that fit.
func (q *dgramQueue) wait(ctx context.Context, buf []byte, errClosed func() error) (int, uint32, error) {
	for {
		if n, st, trunc, ok := q.pop(buf); ok {
			return n, st, truncErr(trunc)
		}
		q.ready.Prepare()
		// Re-check after announcing: a push that came before it left no
		// wake-up.
		if n, st, trunc, ok := q.pop(buf); ok {
			q.ready.Cancel()
			return n, st, truncErr(trunc)
		}
		select {
		case <-q.ready.C():
			q.ready.Cancel()
		case <-q.closed:
			q.ready.Cancel()
			if n, st, trunc, ok := q.pop(buf); ok {
				return n, st, truncErr(trunc)
			}
			return 0, 0, errClosed()
		case <-ctx.Done():
			q.ready.Cancel()
			return 0, 0, ctx.Err()
		}
	}
}

func truncErr(truncated bool) error {
	if truncated {
		return ErrTruncated
	}
	return nil
}
