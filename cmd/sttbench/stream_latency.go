package main

import (
	"sync/atomic"
	"time"

	"github.com/sttgo/stt/cmd/internal/hdrhist"
)

// Block latency: the sender stamps the moment it starts writing block k of
// stream s into a shared, preallocated table; the receiver, when the last
// byte of that block has been read, records now minus the stamp. Both ends
// run in this process, so they read one monotonic clock.

// Latency histogram layout: nanoseconds from 1 µs, 3 significant digits.
const (
	streamLatencyLowest = int64(time.Microsecond)
	streamLatencyDigits = 3
)

// streamBlockClock is the table of block send times, in nanoseconds since
// start, one slot per block of every stream. Slots are atomics: the
// happens-before edge runs through the transport (a socket, for the real
// one), which the race detector cannot see.
type streamBlockClock struct {
	start time.Time
	off   []int // first slot of each stream
	sent  []atomic.Int64
}

// streamBlocks returns how many blocks carry quota bytes.
func streamBlocks(quota int64) int {
	return int((quota + streamBlockSize - 1) / streamBlockSize)
}

// newStreamBlockClock allocates the table for streams of the given quotas
// (bounded by the configuration: at most maxStreamBytes/streamBlockSize +
// maxStreamStreams slots, 8 MiB).
func newStreamBlockClock(quota []int64) *streamBlockClock {
	c := &streamBlockClock{off: make([]int, len(quota))}
	n := 0
	for i, q := range quota {
		c.off[i] = n
		n += streamBlocks(q)
	}
	c.sent = make([]atomic.Int64, n)
	c.start = time.Now()
	return c
}

// markSent records that stream s starts writing block k now. It does not
// allocate.
func (c *streamBlockClock) markSent(s, k int) {
	c.sent[c.off[s]+k].Store(int64(time.Since(c.start)))
}

// since returns the time since stream s's block k was marked sent.
func (c *streamBlockClock) since(s, k int) int64 {
	return int64(time.Since(c.start)) - c.sent[c.off[s]+k].Load()
}

// streamRecvTracker follows one stream's received byte count and records
// the latency of each block into hist as the block's last byte arrives.
type streamRecvTracker struct {
	clock  *streamBlockClock
	stream int
	quota  int64
	blocks int
	got    int64 // bytes received
	next   int   // first block not yet complete
	hist   *hdrhist.Histogram
}

// advance accounts n more received bytes (the caller checks got <= quota
// first). It does not allocate.
func (t *streamRecvTracker) advance(n int) {
	t.got += int64(n)
	for t.next < t.blocks && t.got >= min(int64(t.next+1)*streamBlockSize, t.quota) {
		t.hist.Record(t.clock.since(t.stream, t.next))
		t.next++
	}
}
