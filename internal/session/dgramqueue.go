package session

import (
	"context"
	"sync"
	"sync/atomic"
)

// recvQueue is a session's bounded queue of received datagrams: a fixed ring
// of slots whose byte slices are allocated on first use (at most cap slots of
// MTU bytes each) and then reused. The shard goroutine pushes (copying out of
// the packet buffer); application goroutines pop. When the ring is full the
// datagram is dropped and counted: datagrams are unreliable.
type recvQueue struct {
	mu     sync.Mutex
	slots  []qslot
	head   int // next to pop
	n      int
	mtu    int
	ready  chan struct{} // capacity 1: "the queue became non-empty"
	closed chan struct{} // the session's done channel
}

type qslot struct {
	buf    []byte
	n      int
	stream uint32
}

func newRecvQueue(capacity, mtu int, closed chan struct{}) *recvQueue {
	return &recvQueue{slots: make([]qslot, capacity), mtu: mtu, ready: make(chan struct{}, 1), closed: closed}
}

// push copies p into the ring and adds 1 to accepted, or reports false
// (drop) when the ring is full. accepted is incremented under the queue's
// lock, before the datagram can be popped: a reader that received a
// datagram also sees it counted.
func (q *recvQueue) push(stream uint32, p []byte, accepted *atomic.Uint64) bool {
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
	select {
	case q.ready <- struct{}{}:
	default:
	}
	return true
}

// pop copies the oldest datagram into buf, truncating it to len(buf), and
// returns its full length, or ok false when empty.
func (q *recvQueue) pop(buf []byte) (n int, stream uint32, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n == 0 {
		return 0, 0, false
	}
	sl := &q.slots[q.head]
	copy(buf, sl.buf[:sl.n])
	n, stream = sl.n, sl.stream
	q.head = (q.head + 1) % len(q.slots)
	q.n--
	if q.n > 0 {
		select {
		case q.ready <- struct{}{}:
		default:
		}
	}
	return n, stream, true
}

// wait pops one datagram, blocking until one arrives, ctx ends or the
// session closes (errClosed then; datagrams queued before the close are
// still delivered first).
func (q *recvQueue) wait(ctx context.Context, buf []byte, errClosed func() error) (int, uint32, error) {
	for {
		if n, st, ok := q.pop(buf); ok {
			return n, st, nil
		}
		select {
		case <-q.ready:
		case <-q.closed:
			if n, st, ok := q.pop(buf); ok {
				return n, st, nil
			}
			return 0, 0, errClosed()
		case <-ctx.Done():
			return 0, 0, ctx.Err()
		}
	}
}
