package session

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/sttgo/stt/internal/membudget"
	"github.com/sttgo/stt/internal/wake"
)

// dgramQueue is a session's bounded queue of received datagrams: a fixed
// ring of slots whose byte slices are allocated on first use (MTU bytes
// each) and then reused. The shard goroutine pushes (copying out of the
// packet buffer); application goroutines pop. When the ring is full the
// datagram is dropped and counted: datagrams are unreliable.
//
// Memory: the bytes queued never exceed slots*MTU (a datagram larger than
// the MTU, which only a peer with a larger MTU sends, counts its size and
// gets a buffer of its own, freed when it is popped), and every slot
// buffer is charged to the node's memory budget when allocated: a
// datagram the budget cannot take is dropped and counted (DropBudget).
// release frees the empty slots and every charge when the session closes.
type dgramQueue struct {
	mu       sync.Mutex
	slots    []dgramSlot
	head     int // next to pop
	n        int
	mtu      int
	bytes    int // bytes of the datagrams queued
	maxBytes int // slots*mtu
	budget   *membudget.Budget
	charged  int64         // slot memory charged to budget
	ready    wake.Signal   // "the queue became non-empty"
	closed   chan struct{} // the session's done channel
}

// pushResult is what push did with a datagram.
type pushResult uint8

const (
	pushed     pushResult = iota
	dropFull              // the ring or its byte bound is full
	dropBudget            // the node's memory budget refused a slot buffer
)

type dgramSlot struct {
	buf    []byte
	n      int
	stream uint32
}

func newDgramQueue(capacity, mtu int, closed chan struct{}, budget *membudget.Budget) *dgramQueue {
	q := &dgramQueue{slots: make([]dgramSlot, capacity), mtu: mtu, maxBytes: capacity * mtu, closed: closed,
		budget: budget}
	q.ready.Init()
	return q
}

// push copies p into the ring and adds 1 to accepted (pushed), or drops
// it when the ring or its byte bound is full (dropFull) or the memory
// budget cannot take a buffer for it (dropBudget); the caller counts
// drops. accepted is incremented under the queue's lock, before the
// datagram can be popped: a reader that received a datagram also sees it
// counted.
func (q *dgramQueue) push(stream uint32, p []byte, accepted *atomic.Uint64) pushResult {
	q.mu.Lock()
	if q.n == len(q.slots) || q.bytes+len(p) > q.maxBytes {
		q.mu.Unlock()
		return dropFull
	}
	sl := &q.slots[(q.head+q.n)%len(q.slots)]
	if cap(sl.buf) < len(p) {
		q.borrow(sl, len(p))
	}
	if cap(sl.buf) < len(p) {
		// First use of the slot, or a datagram above the MTU.
		size := max(len(p), q.mtu)
		if !q.budget.TryCharge(int64(size)) {
			q.mu.Unlock()
			return dropBudget
		}
		q.charged -= int64(cap(sl.buf))
		q.budget.Release(int64(cap(sl.buf)))
		q.charged += int64(size)
		sl.buf = make([]byte, size)
	}
	sl.n = copy(sl.buf[:cap(sl.buf)], p)
	sl.stream = stream
	q.n++
	q.bytes += sl.n
	accepted.Add(1)
	q.mu.Unlock()
	q.ready.Notify()
	return pushed
}

// borrow moves into sl an MTU-sized buffer of another empty slot, if one
// has one that holds n bytes: slots come back in ring order, so after a
// refusal by the budget the buffers already paid for may sit in other
// slots (q.mu held; only when sl has no buffer large enough). The scan
// starts at the slot popped last, where a reader that keeps up left its
// buffer: one step in the steady state, not a walk around the ring.
func (q *dgramQueue) borrow(sl *dgramSlot, n int) {
	for i := len(q.slots) - 1; i > q.n; i-- {
		o := &q.slots[(q.head+i)%len(q.slots)]
		if cap(o.buf) >= n && cap(o.buf) <= q.mtu {
			sl.buf, o.buf = o.buf, sl.buf
			return
		}
	}
}

// release frees what the queue holds for nobody when its session closes:
// the buffers of empty slots and every budget charge (the datagrams still
// queued stay readable; their memory leaves the budget with the session).
func (q *dgramQueue) release() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.budget.Release(q.charged)
	q.charged = 0
	q.budget = nil
	for i := q.n; i < len(q.slots); i++ {
		q.slots[(q.head+i)%len(q.slots)].buf = nil
	}
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
	q.bytes -= sl.n
	if cap(sl.buf) > q.mtu {
		// A datagram above the MTU had a buffer of its own: free it.
		q.charged -= int64(cap(sl.buf))
		q.budget.Release(int64(cap(sl.buf)))
		sl.buf = nil
	}
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
