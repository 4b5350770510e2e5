// Package wake provides Signal, the module's one wake-up primitive: the way
// a goroutine that found nothing to do sleeps until another goroutine has
// made something ready, without spinning and without losing a wake-up.
//
// The engine's shards sleep on one when their receive and send rings are
// empty, SendWait and bufpool.GetWait callers when the engine applies
// backpressure, the stream layer's Read, Write, AcceptStream, OpenStream
// and WaitDrained when there is nothing to read, no room to write or no
// stream to accept, and a session's ReceiveDatagram when its queue is empty.
package wake

import "sync/atomic"

// Signal wakes goroutines that announced they are about to sleep. Create
// one with [New] or [Signal.Init]; it must not be copied after first use.
//
// The waiter's protocol, which never loses a wake-up:
//
//	sig.Prepare()              // announce: about to sleep
//	if ready() {               // re-check after announcing
//		sig.Cancel()
//		return
//	}
//	select {                   // or sig.Wait(done)
//	case <-sig.C():
//	case <-ctx.Done():
//	}
//	sig.Cancel()               // after every Prepare, once
//
// The notifier makes something ready first and then calls Notify. Go's
// atomics are sequentially consistent, so either the waiter's re-check sees
// what the notifier made ready, or the notifier's Notify sees the
// announcement and leaves a token that the waiter receives. When the
// condition is guarded by a mutex, checking it and calling Prepare under
// the mutex, and changing it under the mutex before Notify, gives the same
// guarantee.
//
// Notify costs one atomic load while nobody waits. One token is kept: one
// Notify wakes one waiter, so a waiter that takes one of several ready
// items and sees more left calls Notify again to pass the wake-up on. A
// stale token (left for a waiter that found the condition true on its own)
// causes one spurious wake-up later, after which the waiter re-checks.
type Signal struct {
	waiters atomic.Int32
	_       [60]byte // keep the waiter count, read by every Notify, on its own line
	ch      chan struct{}
}

// New returns a Signal with no waiter and no pending wake-up.
func New() *Signal {
	s := new(Signal)
	s.Init()
	return s
}

// Init readies a Signal that is part of another value. It must be called
// once, before any other method.
func (s *Signal) Init() { s.ch = make(chan struct{}, 1) }

// Notify wakes one waiter if any has announced sleep. It never blocks,
// never allocates and may be called from any goroutine.
func (s *Signal) Notify() {
	if s.waiters.Load() > 0 {
		select {
		case s.ch <- struct{}{}:
		default: // a wake-up is already pending
		}
	}
}

// Prepare announces that the caller is about to sleep. The caller must
// re-check its condition afterwards, and call Cancel exactly once when it
// stops waiting (or Wait, which does).
func (s *Signal) Prepare() { s.waiters.Add(1) }

// Cancel withdraws one announcement made by Prepare. A token left by a
// racing Notify stays pending and causes one spurious wake-up later.
func (s *Signal) Cancel() { s.waiters.Add(-1) }

// C returns the channel that receives a wake-up, for a select that also
// waits on a context, a deadline or a close. Receive from it only between
// Prepare and Cancel.
func (s *Signal) C() <-chan struct{} { return s.ch }

// Wait blocks until a wake-up arrives or done is closed, withdraws the
// announcement, and reports false if done was closed (a pending wake-up is
// not consumed then). Call it after Prepare and a re-check.
func (s *Signal) Wait(done <-chan struct{}) bool {
	select {
	case <-s.ch:
		s.Cancel()
		return true
	case <-done:
		s.Cancel()
		return false
	}
}
