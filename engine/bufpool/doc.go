// Package bufpool is a bounded pool of fixed-size packet buffers, all
// allocated once by [New] from one slab. When every buffer is in use, [Pool.Get]
// returns nil and [Pool.GetWait] blocks: exhaustion is backpressure, never an
// allocation.
//
// Ownership: a [Buf] returned by Get or GetWait carries one reference, owned
// by the caller. Whoever owns a reference may pass it on (to a ring, to
// another goroutine) and then must not touch the Buf any more, or must
// eventually drop it with [Buf.Release]. [Buf.Retain] creates an additional
// reference for fan-out (one datagram split into segments routed to
// different consumers, a handler keeping a frame after its call). The Buf
// returns to the pool when the last reference is released; releasing more
// references than exist panics, like quic-go's packetBuffer, because a
// double release would hand one buffer to two owners.
//
// The free list is a lock-free stack (Treiber) of buffer indices with a
// 32-bit modification tag beside the index in one 64-bit word, which rules
// out the ABA problem.
package bufpool
