package session

import "sync"

// bufStack is a bounded LIFO of MTU-size buffers carrying application
// datagrams from application goroutines to the shards. Buffers are allocated
// on first need, at most limit of them, then recycled; LIFO order keeps the
// working set (and the warm-up) as small as the real concurrency.
type bufStack struct {
	mu    sync.Mutex
	free  [][]byte
	made  int
	limit int
	size  int
}

func newBufStack(limit, size int) *bufStack {
	return &bufStack{free: make([][]byte, 0, limit), limit: limit, size: size}
}

// get returns an empty buffer of capacity size, or false when limit
// buffers are in use.
func (b *bufStack) get() ([]byte, bool) {
	b.mu.Lock()
	if n := len(b.free); n > 0 {
		buf := b.free[n-1]
		b.free[n-1] = nil
		b.free = b.free[:n-1]
		b.mu.Unlock()
		return buf[:0], true
	}
	if b.made == b.limit {
		b.mu.Unlock()
		return nil, false
	}
	b.made++
	b.mu.Unlock()
	return make([]byte, 0, b.size), true
}

// put returns a buffer obtained from get.
func (b *bufStack) put(buf []byte) {
	b.mu.Lock()
	b.free = append(b.free, buf[:0])
	b.mu.Unlock()
}
