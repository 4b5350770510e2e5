// Package membudget is a node-wide memory accountant: one byte budget that
// every session's receive-side buffers draw from (stream receive credit,
// stream bookkeeping, datagram queues), so that what authenticated peers
// can make a node hold is bounded across all sessions, not per session.
//
// A Budget is a limit and one atomic counter. Holders charge it when a
// buffer grows or a commitment is made and release it when the memory is
// freed; the hot paths call it once per growth, never per packet. Charge
// never fails (memory the protocol already promised, such as bytes within
// granted flow-control credit, must be stored); TryCharge fails instead of
// passing the limit (a datagram is dropped, credit is withheld). A nil
// *Budget is unlimited and counts nothing, so layers can be used without
// one. All methods are safe for concurrent use and do not allocate.
package membudget

import "sync/atomic"

// Budget is a byte budget shared by the sessions of one node.
type Budget struct {
	limit int64
	used  atomic.Int64
	peak  atomic.Int64

	denied atomic.Uint64 // TryCharge calls refused
}

// New returns a budget of limit bytes (limit <= 0: unlimited, but still
// counted).
func New(limit int64) *Budget {
	if limit <= 0 {
		limit = 1<<63 - 1
	}
	return &Budget{limit: limit}
}

// Limit returns the budget in bytes (0 for a nil Budget: unlimited).
func (b *Budget) Limit() int64 {
	if b == nil {
		return 0
	}
	return b.limit
}

// Used returns the bytes charged and not released.
func (b *Budget) Used() int64 {
	if b == nil {
		return 0
	}
	return b.used.Load()
}

// Peak returns the highest Used seen at a charge.
func (b *Budget) Peak() int64 {
	if b == nil {
		return 0
	}
	return b.peak.Load()
}

// Denied returns how many TryCharge calls were refused.
func (b *Budget) Denied() uint64 {
	if b == nil {
		return 0
	}
	return b.denied.Load()
}

// Available returns the bytes that can still be charged without passing
// the limit (0 when it is reached or passed; a large value when nil).
func (b *Budget) Available() int64 {
	if b == nil {
		return 1<<63 - 1
	}
	return max(b.limit-b.used.Load(), 0)
}

// Exhausted reports whether the charges reached the limit.
func (b *Budget) Exhausted() bool { return b != nil && b.used.Load() >= b.limit }

// Charge adds n bytes (n < 0 releases), even past the limit: for memory
// the caller must hold anyway. It returns the new total.
func (b *Budget) Charge(n int64) int64 {
	if b == nil || n == 0 {
		return 0
	}
	u := b.used.Add(n)
	if n > 0 {
		b.notePeak(u)
	}
	return u
}

// TryCharge adds n > 0 bytes if that keeps the total within the limit and
// reports whether it did; a refusal is counted (Denied) and changes
// nothing. Concurrent callers never pass the limit together.
func (b *Budget) TryCharge(n int64) bool {
	if b == nil || n <= 0 {
		return true
	}
	u := b.used.Add(n)
	if u > b.limit {
		b.used.Add(-n)
		b.denied.Add(1)
		return false
	}
	b.notePeak(u)
	return true
}

// Release gives back n bytes charged before.
func (b *Budget) Release(n int64) {
	if b == nil || n == 0 {
		return
	}
	b.used.Add(-n)
}

func (b *Budget) notePeak(u int64) {
	for {
		p := b.peak.Load()
		if u <= p || b.peak.CompareAndSwap(p, u) {
			return
		}
	}
}
