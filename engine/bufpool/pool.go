package bufpool

import (
	"errors"
	"net/netip"
	"sync/atomic"

	"github.com/sttgo/stt/internal/wake"
)

// ErrClosed is returned by [Pool.GetWait] when its done channel closes
// before a buffer frees up.
var ErrClosed = errors.New("bufpool: wait cancelled")

// Buf is one fixed-size buffer from a [Pool]. Its memory is owned by the
// holders of its references (see the package documentation).
type Buf struct {
	// Addr is free for the owner's use, typically the datagram's peer
	// (so that a queue can carry the *Buf alone). Get returns it zero.
	Addr netip.AddrPort

	data []byte // fixed, len == cap == pool's size
	n    int
	refs atomic.Int32
	next atomic.Uint32 // free-list link: index+1 of the next free Buf, 0 = none
	idx  uint32
	pool *Pool
}

// Data returns the whole backing array of b (length Size()). The caller may
// fill it and then record the valid length with SetLen. The slice aliases
// the pool's memory and is valid only while the caller holds a reference.
func (b *Buf) Data() []byte { return b.data }

// Bytes returns the valid bytes, b.Data()[:b.Len()], with the same aliasing
// rule as Data.
func (b *Buf) Bytes() []byte { return b.data[:b.n] }

// Len returns the valid length recorded by SetLen (0 for a fresh Buf).
func (b *Buf) Len() int { return b.n }

// SetLen records n valid bytes. It panics if n is outside [0, Size()].
func (b *Buf) SetLen(n int) {
	if n < 0 || n > len(b.data) {
		panic("bufpool: SetLen out of range")
	}
	b.n = n
}

// Size returns the fixed capacity of the buffer.
func (b *Buf) Size() int { return len(b.data) }

// Refs returns the current reference count (for tests and assertions).
func (b *Buf) Refs() int { return int(b.refs.Load()) }

// Retain adds one reference, owned by the caller. The caller must already
// hold a reference (retaining a free Buf panics).
func (b *Buf) Retain() {
	if b.refs.Add(1) <= 1 {
		panic("bufpool: Retain on a released Buf")
	}
}

// Release drops one reference owned by the caller, who must not use the Buf
// (or slices of its data) afterwards. The last Release returns the Buf to
// its pool. Releasing a Buf with no references panics.
func (b *Buf) Release() {
	switch r := b.refs.Add(-1); {
	case r == 0:
		b.n = 0
		b.Addr = netip.AddrPort{}
		b.pool.put(b)
	case r < 0:
		panic("bufpool: negative Buf reference count")
	}
}

// Pool is a bounded set of equal-size buffers. All methods are safe for
// concurrent use.
type Pool struct {
	head  atomic.Uint64 // tag<<32 | (index+1) of the top free Buf; low half 0 = empty
	free  atomic.Int64  // number of free buffers
	space wake.Signal   // wakes GetWait callers when a buffer is put back
	bufs  []Buf
	size  int
}

// New allocates count buffers of size bytes each, all free. It panics if
// count or size is not positive or count exceeds 2^31.
func New(count, size int) *Pool {
	if count <= 0 || size <= 0 || uint64(count) > 1<<31 {
		panic("bufpool: invalid pool dimensions")
	}
	p := &Pool{bufs: make([]Buf, count), size: size}
	p.space.Init()
	slab := make([]byte, count*size)
	for i := range p.bufs {
		b := &p.bufs[i]
		b.data = slab[i*size : (i+1)*size : (i+1)*size]
		b.idx = uint32(i)
		b.pool = p
	}
	// Push in reverse so that Get hands out low indices first.
	for i := count - 1; i >= 0; i-- {
		p.push(&p.bufs[i])
	}
	p.free.Store(int64(count))
	return p
}

// Size returns the size of every buffer.
func (p *Pool) Size() int { return p.size }

// Cap returns the number of buffers the pool owns.
func (p *Pool) Cap() int { return len(p.bufs) }

// Available returns how many buffers are free right now: a snapshot,
// clamped to [0, Cap()] because the count trails concurrent Get/Release by
// an instant.
func (p *Pool) Available() int { return min(max(int(p.free.Load()), 0), len(p.bufs)) }

// Get returns a free Buf holding one reference owned by the caller, with
// length 0, or nil when every buffer is in use. It never allocates or
// blocks.
func (p *Pool) Get() *Buf {
	b := p.pop()
	if b == nil {
		return nil
	}
	p.free.Add(-1)
	b.refs.Store(1)
	return b
}

// GetWait is Get that blocks while the pool is exhausted, until a buffer is
// released or done is closed ([ErrClosed]). The Buf is owned by the caller
// as with Get.
func (p *Pool) GetWait(done <-chan struct{}) (*Buf, error) {
	if b := p.Get(); b != nil {
		return b, nil
	}
	for {
		p.space.Prepare()
		// Re-check after announcing (no lost wake-up: put pushes, then
		// notifies).
		if b := p.Get(); b != nil {
			p.space.Cancel()
			if p.free.Load() > 0 {
				p.space.Notify() // pass the wake-up on to the next waiter
			}
			return b, nil
		}
		select {
		case <-p.space.C():
			p.space.Cancel()
		case <-done:
			p.space.Cancel()
			return nil, ErrClosed
		}
	}
}

func (p *Pool) put(b *Buf) {
	p.push(b)
	p.free.Add(1)
	p.space.Notify()
}

func (p *Pool) push(b *Buf) {
	for {
		h := p.head.Load()
		b.next.Store(uint32(h))
		nh := (h>>32+1)<<32 | uint64(b.idx+1)
		if p.head.CompareAndSwap(h, nh) {
			return
		}
	}
}

func (p *Pool) pop() *Buf {
	for {
		h := p.head.Load()
		i := uint32(h)
		if i == 0 {
			return nil
		}
		b := &p.bufs[i-1]
		nh := (h>>32+1)<<32 | uint64(b.next.Load())
		if p.head.CompareAndSwap(h, nh) {
			return b
		}
	}
}
