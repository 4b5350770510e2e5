package ring

import "sync/atomic"

// Signal wakes one sleeping consumer. The zero value is not usable; create
// one with [NewSignal].
//
// The consumer protocol, which never loses a wake-up:
//
//	for {
//		if n := r.PopBatch(buf); n > 0 { ...; continue }
//		sig.Prepare()          // announce: about to sleep
//		if r.Len() > 0 {       // re-check after announcing
//			sig.Cancel()
//			continue
//		}
//		if !sig.Wait(done) {   // sleeps; false once done is closed
//			return
//		}
//	}
//
// A producer pushes first and then calls Notify. Go's atomics are
// sequentially consistent, so either the consumer's re-check sees the push,
// or the producer's Notify sees the announcement and leaves a token that
// Wait consumes. Notify costs one atomic load while the consumer is awake.
// A stale token only causes one spurious wake-up.
type Signal struct {
	sleeping atomic.Bool
	_        [cacheLine - 1]byte
	ch       chan struct{}
}

// NewSignal returns a Signal with no pending wake-up.
func NewSignal() *Signal {
	return &Signal{ch: make(chan struct{}, 1)}
}

// Notify wakes the consumer if it has announced sleep. It never blocks and
// may be called from any goroutine.
func (s *Signal) Notify() {
	if s.sleeping.Load() {
		select {
		case s.ch <- struct{}{}:
		default: // a wake-up is already pending
		}
	}
}

// Prepare announces that the consumer is about to sleep. The consumer must
// re-check its ring afterwards and then call Wait or Cancel.
func (s *Signal) Prepare() { s.sleeping.Store(true) }

// Cancel withdraws the announcement made by Prepare (the re-check found
// work). A token left by a racing Notify stays pending and causes one
// spurious wake-up later, which is harmless.
func (s *Signal) Cancel() { s.sleeping.Store(false) }

// Wait blocks until Notify delivers a wake-up or done is closed, clears the
// announcement, and reports false if done was closed (a pending wake-up is
// not consumed then). Consumer only, after Prepare and a re-check.
func (s *Signal) Wait(done <-chan struct{}) bool {
	select {
	case <-s.ch:
		s.sleeping.Store(false)
		return true
	case <-done:
		s.sleeping.Store(false)
		return false
	}
}
